// Prisma client on the Rust-free runtime: @prisma/adapter-pg talks to Postgres through `pg`, so no
// query-engine binary is downloaded or loaded. Deliberately not "server-only": CLI scripts use it.
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client";
import { getEnv } from "@/lib/env";

export type TPrismaClient = ReturnType<typeof createPrismaClient>;

export function createPrismaClient(connectionString: string, { max }: { max?: number } = {}) {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, ...(max === undefined ? {} : { max }) }) });
}

// On globalThis so that Next's dev-mode module reloads reuse one pool instead of leaking one per edit.
const globalForPrisma = globalThis as typeof globalThis & { tetherPrisma?: TPrismaClient };

/** The process-wide client for DATABASE_URL. */
export function getPrisma(): TPrismaClient {
  if (globalForPrisma.tetherPrisma) return globalForPrisma.tetherPrisma;
  const databaseUrl = getEnv().DATABASE_URL;
  if (!databaseUrl) {
    throw new Error("DATABASE_URL is not set. Set it, or use `npm start`, which sets it for the embedded database.");
  }
  globalForPrisma.tetherPrisma = createPrismaClient(databaseUrl);
  return globalForPrisma.tetherPrisma;
}
