// Creating and dropping whole databases (test databases, the migration shadow database).
// These statements cannot take bind parameters, so every identifier and literal is escaped
// with pg's own helpers rather than interpolated.
import pg from "pg";
import { z } from "zod";

const CONNECT_TIMEOUT_MS = 10_000;

/** Runs `fn` on a dedicated connection that is always closed afterwards, so scripts can exit. */
export async function withPostgresClient<T>(
  connectionString: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // An idle connection killed by the server emits "error"; unhandled, that would crash the process.
  client.on("error", () => {});
  const startedAt = Date.now();
  try {
    await client.connect();
  } catch (err) {
    // pg reports its own connect timeout as "Connection terminated unexpectedly", which reads like
    // a server crash; name it, so describeConnectionError can point at host, port and firewall.
    if (Date.now() - startedAt >= CONNECT_TIMEOUT_MS) {
      throw new Error(`Connection timed out after ${CONNECT_TIMEOUT_MS / 1000} s`, { cause: err });
    }
    throw err;
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createDatabase({
  adminConnectionString,
  name,
  comment,
}: {
  adminConnectionString: string;
  name: string;
  comment?: string;
}): Promise<void> {
  await withPostgresClient(adminConnectionString, async (client) => {
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    if (comment === undefined) return;
    try {
      await client.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(name)} IS ${pg.escapeLiteral(comment)}`);
    } catch (err) {
      // A database without its ownership marker could never be dropped by its creator again.
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`).catch(() => {});
      throw err;
    }
  });
}

export async function getDatabaseComment(client: pg.Client, name: string): Promise<string | null | undefined> {
  const { rows } = await client.query<{ comment: string | null }>(
    "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
    [name],
  );
  // undefined: no such database; null: exists without a comment.
  return rows[0]?.comment;
}

const OBJECT_IN_USE = "55006";

/** Ends every other session on the database, then drops it. Callers decide whether they may. */
export async function dropDatabaseOnClient(client: pg.Client, name: string): Promise<void> {
  // A pool may reconnect between the terminate and the drop; a few rounds settle that race.
  for (let attempt = 1; ; attempt++) {
    await client.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [name],
    );
    try {
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== OBJECT_IN_USE || attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

const DEFAULT_ADMIN_CONNECTION_STRING = "postgresql://postgres@127.0.0.1:5432/postgres";

/**
 * Where test and shadow databases are created: TEST_DATABASE_URL, else the local development
 * server. Read here rather than in lib/env.ts because only tests and developer scripts use it.
 */
export function getTestAdminConnectionString(): string {
  const parsed = z.string().url().optional().safeParse(process.env.TEST_DATABASE_URL || undefined);
  if (!parsed.success) throw new Error("TEST_DATABASE_URL must be a postgresql:// URL.");
  return parsed.data ?? DEFAULT_ADMIN_CONNECTION_STRING;
}
