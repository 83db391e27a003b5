// One migrated database per test run, on the server of TEST_DATABASE_URL. Tests share machines
// (and CI reuses the developer's Postgres), so dropping is fenced: only databases that carry the
// marker written at creation time, under the reserved name prefix, can be dropped through here.
import { randomBytes } from "node:crypto";
import { replaceDatabaseName } from "./connection-string";
import {
  createDatabase,
  dropDatabaseOnClient,
  getDatabaseComment,
  getTestAdminConnectionString,
  withPostgresClient,
} from "./database-admin";
import { applyMigrations } from "./schema-engine";

export const TEST_DATABASE_PREFIX = "tether_test_";
const MARKER_PREFIX = "created-by-tether-tests ";

// Databases this process created, with the nonce written into each one's marker. A database
// dropped and re-created under the same name by someone else no longer matches.
const createdByThisProcess = new Map<string, string>();

export type TTestDatabase = { name: string; url: string };

export async function createTestDatabase(): Promise<TTestDatabase> {
  const adminConnectionString = getTestAdminConnectionString();
  const name = `${TEST_DATABASE_PREFIX}${randomBytes(8).toString("hex")}`;
  const nonce = randomBytes(16).toString("hex");
  await createDatabase({ adminConnectionString, name, comment: `${MARKER_PREFIX}${nonce}` });
  createdByThisProcess.set(name, nonce);
  const url = replaceDatabaseName(adminConnectionString, name);
  try {
    await applyMigrations({ connectionString: url });
  } catch (err) {
    await dropTestDatabase(name).catch(() => {});
    throw err;
  }
  return { name, url };
}

export class RefusedToDropDatabaseError extends Error {
  override name = "RefusedToDropDatabaseError";
}

/**
 * Drops a database made by createTestDatabase. The marker comment is the registry: it is checked
 * on the server right before the drop, so a teardown running in another process than the setup
 * (the e2e runner does this) can drop its database, but nothing else can be dropped by mistake.
 */
export async function dropTestDatabase(name: string): Promise<void> {
  // Checked before connecting: a wrong name never reaches the server at all.
  if (!name.startsWith(TEST_DATABASE_PREFIX) || !/^[a-z0-9_]+$/.test(name)) {
    throw new RefusedToDropDatabaseError(`Refusing to drop "${name}": not a ${TEST_DATABASE_PREFIX}* database.`);
  }
  await withPostgresClient(getTestAdminConnectionString(), async (client) => {
    const comment = await getDatabaseComment(client, name);
    if (comment === undefined) {
      createdByThisProcess.delete(name);
      return;
    }
    const nonce = comment?.startsWith(MARKER_PREFIX) ? comment.slice(MARKER_PREFIX.length) : undefined;
    const expectedNonce = createdByThisProcess.get(name);
    if (!nonce || !/^[0-9a-f]{32}$/.test(nonce) || (expectedNonce !== undefined && nonce !== expectedNonce)) {
      throw new RefusedToDropDatabaseError(`Refusing to drop "${name}": it was not created by createTestDatabase.`);
    }
    await dropDatabaseOnClient(client, name);
    createdByThisProcess.delete(name);
  });
}
