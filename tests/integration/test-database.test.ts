import { readdirSync } from "node:fs";
import path from "node:path";
// dropTestDatabase must never drop a database the test tooling did not create, even one that
// merely looks like a test database: CI runs on the developer's shared Postgres.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { getTestAdminConnectionString, withPostgresClient } from "@/lib/db/database-admin";
import { createTestDatabase, dropTestDatabase, RefusedToDropDatabaseError } from "@/lib/db/test-database";

const handMade: string[] = [];

async function databaseExists(name: string): Promise<boolean> {
  return withPostgresClient(getTestAdminConnectionString(), async (client) => {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    return rowCount === 1;
  });
}

async function createDatabaseByHand(name: string, comment?: string): Promise<void> {
  handMade.push(name);
  await withPostgresClient(getTestAdminConnectionString(), async (client) => {
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    if (comment) await client.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(name)} IS ${pg.escapeLiteral(comment)}`);
  });
}

afterAll(async () => {
  // Cleaned up by hand, precisely because dropTestDatabase refuses these.
  await withPostgresClient(getTestAdminConnectionString(), async (client) => {
    for (const name of handMade) await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`);
  });
});

describe("test databases", () => {
  it("creates a migrated database and drops it again", async () => {
    const { name, url } = await createTestDatabase();
    expect(name).toMatch(/^tether_test_[0-9a-f]{16}$/);
    await withPostgresClient(url, async (client) => {
      const { rows } = await client.query<{ migration_name: string }>("SELECT migration_name FROM _prisma_migrations ORDER BY started_at, migration_name");
      // Every folder in prisma/migrations, in order.
      const folders = readdirSync(path.resolve("prisma/migrations"), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
      expect(rows.map((row) => row.migration_name)).toEqual(folders);
    });

    await dropTestDatabase(name);

    expect(await databaseExists(name)).toBe(false);
  });

  it("refuses a database it did not create, even under the test prefix", async () => {
    const name = `tether_test_foreign_${randomBytes(6).toString("hex")}`;
    await createDatabaseByHand(name);

    await expect(dropTestDatabase(name)).rejects.toThrow(RefusedToDropDatabaseError);

    expect(await databaseExists(name)).toBe(true);
  });

  it("refuses a database re-created under a name it once created", async () => {
    const { name } = await createTestDatabase();
    await withPostgresClient(getTestAdminConnectionString(), (client) =>
      client.query(`DROP DATABASE ${pg.escapeIdentifier(name)}`),
    );
    // A well-formed marker, but not the one this process wrote.
    await createDatabaseByHand(name, `created-by-tether-tests ${randomBytes(16).toString("hex")}`);

    await expect(dropTestDatabase(name)).rejects.toThrow(RefusedToDropDatabaseError);

    expect(await databaseExists(name)).toBe(true);
  });

  it("refuses names outside the test prefix without touching the server", async () => {
    await expect(dropTestDatabase("postgres")).rejects.toThrow(RefusedToDropDatabaseError);
    await expect(dropTestDatabase("tether_test_x; DROP DATABASE postgres")).rejects.toThrow(RefusedToDropDatabaseError);
  });
});
