// npm run db:migration -- <name> — write prisma/migrations/<timestamp>_<name>/migration.sql from the
// difference between the existing migrations and prisma/schema.prisma (offline `migrate dev --create-only`).
import path from "node:path";
import { createMigration, ZMigrationName } from "@/lib/db/create-migration";
import { getTestAdminConnectionString } from "@/lib/db/database-admin";
import { describeConnectionError, isConnectionError } from "@/lib/db/describe-connection-error";
import { SchemaEngineError } from "@/lib/db/schema-engine";
import { getEnv } from "@/lib/env";

async function main(): Promise<number> {
  const name = ZMigrationName.safeParse(process.argv[2] ?? "");
  if (process.argv.length !== 3 || !name.success) {
    console.error(`Usage: npm run db:migration -- <name>\n${name.error?.issues[0]?.message ?? ""}`.trim());
    return 1;
  }

  let adminConnectionString: string;
  try {
    // Only a throwaway shadow database is created on this server; no existing database is changed.
    adminConnectionString = getEnv().DATABASE_URL ?? getTestAdminConnectionString();
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }

  try {
    const result = await createMigration({ name: name.data, adminConnectionString });
    if (result.status === "unchanged") console.log("No schema changes");
    else console.log(`Created ${path.relative(process.cwd(), result.migrationPath)}`);
    return 0;
  } catch (err) {
    if (isConnectionError(err)) console.error(describeConnectionError(err, adminConnectionString));
    else if (err instanceof SchemaEngineError) console.error(`Could not compute the migration: ${err.message}`);
    else throw err;
    return 1;
  }
}

process.exitCode = await main();
