// For test files whose subject is a database-wide fact (the set of active administrators, the
// one default policy): the file gets a migrated database of its own, so rows made by other files
// cannot change the answer. Each test file runs in its own worker process, so pointing
// DATABASE_URL (and with it getPrisma) elsewhere here affects this file only.
import { afterAll, beforeAll } from "vitest";
import { getPrisma } from "@/lib/db/client";
import { createTestDatabase, dropTestDatabase, type TTestDatabase } from "@/lib/db/test-database";
import { resetEnvCache } from "@/lib/env";

export function setUpOwnDatabase(): void {
  let database: TTestDatabase | undefined;
  let previousUrl: string | undefined;
  beforeAll(async () => {
    previousUrl = process.env.DATABASE_URL;
    database = await createTestDatabase();
    process.env.DATABASE_URL = database.url;
    resetEnvCache();
    // getPrisma caches its client process-wide: prove it really talks to the new database.
    const [row] = await getPrisma().$queryRaw<Array<{ name: string }>>`SELECT current_database() AS name`;
    if (row?.name !== database.name) {
      throw new Error(`getPrisma() is connected to ${row?.name ?? "?"}, not to this file's database ${database.name}`);
    }
  });
  afterAll(async () => {
    await getPrisma().$disconnect();
    if (database) await dropTestDatabase(database.name);
    if (previousUrl === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = previousUrl;
    resetEnvCache();
  });
}
