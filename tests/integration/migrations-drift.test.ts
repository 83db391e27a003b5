// prisma/schema.prisma and prisma/migrations must describe the same database: a model change
// without its migration would pass type checks and fail only against a real database.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { getTestAdminConnectionString } from "@/lib/db/database-admin";
import { DEFAULT_MIGRATIONS_DIR, DEFAULT_SCHEMA_PATH, diffMigrationsToSchema, hasSqlStatements } from "@/lib/db/schema-engine";

const scratchDirs: string[] = [];

afterAll(async () => {
  await Promise.all(scratchDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("migrations drift", () => {
  it("has a migration for every change in schema.prisma", async () => {
    const sql = await diffMigrationsToSchema({ connectionString: getTestAdminConnectionString() });
    expect(
      hasSqlStatements(sql),
      `schema.prisma differs from prisma/migrations; run \`npm run db:migration -- <name>\`. Missing SQL:\n${sql}`,
    ).toBe(false);
  });

  // Guards the guard: a check that cannot fail would keep passing while the schema drifts.
  it("reports a model added to schema.prisma without a migration", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "tether-drift-"));
    scratchDirs.push(dir);
    const schemaPath = path.join(dir, "schema.prisma");
    const schema = await readFile(DEFAULT_SCHEMA_PATH, "utf8");
    await writeFile(schemaPath, `${schema}\nmodel DriftProbe {\n  id Int @id\n  @@map("drift_probe")\n}\n`);
    await cp(DEFAULT_MIGRATIONS_DIR, path.join(dir, "migrations"), { recursive: true });

    const sql = await diffMigrationsToSchema({
      connectionString: getTestAdminConnectionString(),
      migrationsDir: path.join(dir, "migrations"),
      schemaPath,
    });

    expect(hasSqlStatements(sql)).toBe(true);
    expect(sql).toContain('CREATE TABLE "drift_probe"');
  });
});
