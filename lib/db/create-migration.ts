// Writes the next Prisma-format migration from the difference between the migrations folder and
// schema.prisma: the offline counterpart of `prisma migrate dev --create-only`.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import {
  DEFAULT_MIGRATIONS_DIR,
  DEFAULT_SCHEMA_PATH,
  diffMigrationsToSchema,
  hasSqlStatements,
  MIGRATION_LOCK_CONTENT,
  MIGRATION_LOCK_FILE,
} from "./schema-engine";

export const ZMigrationName = z
  .string()
  .regex(/^[a-z0-9_]+$/, "Migration names use lowercase letters, digits and underscores only, e.g. add_handle_notes.")
  .max(200, "Migration names are at most 200 characters.");

export type TCreateMigrationResult =
  | { status: "unchanged" }
  | { status: "created"; migrationName: string; migrationPath: string };

/** Prisma's folder prefix: the UTC time as YYYYMMDDHHMMSS, which also fixes the apply order. */
export function formatMigrationTimestamp(date: Date): string {
  return date.toISOString().replace(/\D/g, "").slice(0, 14);
}

export async function createMigration({
  name,
  adminConnectionString,
  migrationsDir = DEFAULT_MIGRATIONS_DIR,
  schemaPath = DEFAULT_SCHEMA_PATH,
  now = new Date(),
}: {
  name: string;
  /** Server on which the temporary shadow database is created (needs CREATEDB). */
  adminConnectionString: string;
  migrationsDir?: string;
  schemaPath?: string;
  now?: Date;
}): Promise<TCreateMigrationResult> {
  const validName = ZMigrationName.parse(name);
  const sql = await diffMigrationsToSchema({ connectionString: adminConnectionString, migrationsDir, schemaPath });
  await mkdir(migrationsDir, { recursive: true });
  await ensureMigrationLockFile(migrationsDir);
  if (!hasSqlStatements(sql)) return { status: "unchanged" };

  const migrationName = `${formatMigrationTimestamp(now)}_${validName}`;
  const migrationDir = path.join(migrationsDir, migrationName);
  // Not recursive: an existing folder of the same name must never be overwritten.
  await mkdir(migrationDir);
  const migrationPath = path.join(migrationDir, "migration.sql");
  await writeFile(migrationPath, sql, { flag: "wx" });
  return { status: "created", migrationName, migrationPath };
}

/** The Prisma CLI refuses a migrations folder without this file (or one naming another provider). */
async function ensureMigrationLockFile(migrationsDir: string): Promise<void> {
  await writeFile(path.join(migrationsDir, MIGRATION_LOCK_FILE), MIGRATION_LOCK_CONTENT, { flag: "wx" }).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    },
  );
}
