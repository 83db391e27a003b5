// Prisma client on the Rust-free runtime: @prisma/adapter-pg talks to Postgres through `pg`, so no
// query-engine binary is downloaded or loaded. Deliberately not "server-only": CLI scripts use it.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/client";
import { getEnv } from "@/lib/env";

export type TPrismaClient = ReturnType<typeof createPrismaClient>;

export type TClientOptions = {
  max?: number;
  /**
   * Database role every pooled connection switches to (SET ROLE) before use. The application
   * runs as `tether_app`, which may only INSERT and SELECT the audit tables; migrations and
   * tests that need the owner pass null.
   */
  role?: string | null;
};

export function createPool(connectionString: string, { max, role = null }: TClientOptions = {}): pg.Pool {
  const embedded = getEnv().TETHER_EMBEDDED;
  const pool = new pg.Pool({
    connectionString,
    // The embedded database serves every socket from one PGlite backend and interleaves
    // their protocol messages outside explicit transactions, which can hand one connection
    // another's results: one connection per process keeps its traffic strictly sequential.
    ...(embedded ? { max: 1 } : max === undefined ? {} : { max }),
    // Postgres applies the role at connection start, before any query can run. The embedded
    // database (PGlite behind a socket) ignores startup options, so there a SET ROLE follows
    // the connection instead; all its connections share one backend anyway.
    ...(role && !embedded ? { options: `-c role=${role}` } : {}),
  });
  if (role && embedded) {
    // Quoted as an identifier: the role name comes from configuration, not from users.
    const statement = `SET ROLE ${pg.escapeIdentifier(role)}`;
    pool.on("connect", (client) => {
      client.query(statement).catch((err: Error) => client.emit("error", err));
    });
  }
  // A connection that dies (database restart, failover, pg_terminate_backend) emits "error" on
  // its client; while a client is checked out the pool does not listen, and an unheard "error"
  // would crash the process. The query in flight fails on its own and the pool discards the
  // broken client when it is released.
  pool.on("connect", (client) => client.on("error", () => undefined));
  pool.on("error", () => undefined);
  return pool;
}

export function createPrismaClient(connectionString: string | pg.Pool, options: TClientOptions = {}) {
  const pool = typeof connectionString === "string" ? createPool(connectionString, options) : connectionString;
  return new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: typeof connectionString === "string" }) });
}

// On globalThis so that Next's dev-mode module reloads reuse one pool instead of leaking one per edit.
const globalForDb = globalThis as typeof globalThis & { tetherPool?: pg.Pool; tetherPrisma?: TPrismaClient };

/**
 * The process-wide pool for DATABASE_URL, running as the application role. Raw `pg` users
 * (the audit sealer, verification and export, which stream large result sets) share it
 * with Prisma.
 */
export function getPool(): pg.Pool {
  if (globalForDb.tetherPool) return globalForDb.tetherPool;
  const env = getEnv();
  if (!env.DATABASE_URL) {
    throw new Error("DATABASE_URL is not set. Set it, or use `npm start`, which sets it for the embedded database.");
  }
  globalForDb.tetherPool = createPool(env.DATABASE_URL, { role: env.TETHER_DB_ROLE || null });
  return globalForDb.tetherPool;
}

/** The process-wide Prisma client on the shared pool. */
export function getPrisma(): TPrismaClient {
  globalForDb.tetherPrisma ??= createPrismaClient(getPool());
  return globalForDb.tetherPrisma;
}
