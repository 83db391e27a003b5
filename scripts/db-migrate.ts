// npm run db:migrate — apply pending migrations to DATABASE_URL without Prisma's native engine.
import { describeConnectionError, isConnectionError } from "@/lib/db/describe-connection-error";
import { applyMigrations, SchemaEngineError } from "@/lib/db/schema-engine";
import { getEnv } from "@/lib/env";

async function main(): Promise<number> {
  let databaseUrl: string | undefined;
  try {
    databaseUrl = getEnv().DATABASE_URL;
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  if (!databaseUrl) {
    console.error("DATABASE_URL is required for db:migrate (or run `npm start`, which migrates the embedded database itself).");
    return 1;
  }

  try {
    const applied = await applyMigrations({ connectionString: databaseUrl });
    if (applied.length === 0) console.log("Database is up to date");
    for (const name of applied) console.log(`Applied ${name}`);
    return 0;
  } catch (err) {
    if (isConnectionError(err)) console.error(describeConnectionError(err, databaseUrl));
    // Engine errors are written for people (failed migration, edited checksum); the trace is not.
    else if (err instanceof SchemaEngineError) console.error(`Migration failed: ${err.message}`);
    else throw err;
    return 1;
  }
}

process.exitCode = await main();
