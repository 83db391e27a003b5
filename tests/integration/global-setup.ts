// Vitest globalSetup for the integration project: one migrated database per run, dropped after it.
// Runs in the main process; workers receive the URL through provide/inject (see setup-database-env.ts)
// because they do not reliably inherit environment changes made here.
import type { TestProject } from "vitest/node";
import { getTestAdminConnectionString } from "@/lib/db/database-admin";
import { describeConnectionError, isConnectionError } from "@/lib/db/describe-connection-error";
import { createTestDatabase, dropTestDatabase } from "@/lib/db/test-database";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  try {
    database = await createTestDatabase();
  } catch (err) {
    if (!isConnectionError(err)) throw err;
    // Shown instead of a stack trace from deep inside pg when Postgres is simply not running.
    throw new Error(describeConnectionError(err, getTestAdminConnectionString()));
  }
  project.provide("databaseUrl", database.url);
  return () => dropTestDatabase(database.name);
}
