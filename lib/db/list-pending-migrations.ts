import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { DEFAULT_MIGRATIONS_DIR } from "./schema-engine";
import { withPostgresClient } from "./database-admin";

/**
 * Migrations in the folder that the database has not applied, or whose file changed since it
 * was applied (checksum, as Prisma records it). A plain query, so a start with nothing to do
 * does not load the WebAssembly schema engine at all.
 */
export async function listPendingMigrations(connectionString: string, migrationsDir = DEFAULT_MIGRATIONS_DIR): Promise<string[]> {
  const folders = (await readdir(migrationsDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const applied = await withPostgresClient(connectionString, async (client) => {
    const { rows: exists } = await client.query<{ t: string | null }>("SELECT to_regclass('_prisma_migrations')::text AS t");
    if (!exists[0]?.t) return new Map<string, string>();
    const { rows } = await client.query<{ migration_name: string; checksum: string }>(
      "SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL",
    );
    return new Map(rows.map((r) => [r.migration_name, r.checksum]));
  });
  const pending: string[] = [];
  for (const name of folders) {
    const sql = await readFile(path.join(migrationsDir, name, "migration.sql"));
    if (applied.get(name) !== createHash("sha256").update(sql).digest("hex")) pending.push(name);
  }
  return pending;
}
