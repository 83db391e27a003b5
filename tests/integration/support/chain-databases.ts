// For audit-chain tests that need several databases of their own (one per scenario), each with the
// app role's pool, the owner's pool and a Prisma client, and a fresh checkpoint-signing key.
// Everything opened is dropped after the file.
import { generateKeyPairSync } from "node:crypto";
import type pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { getAuditSigningKey, type TSigningKey } from "@/lib/audit/signing-key";
import { createPool, createPrismaClient, type TPrismaClient } from "@/lib/db/client";
import { createTestDatabase, dropTestDatabase } from "@/lib/db/test-database";
import { resetEnvCache } from "@/lib/env";

export type TChainDb = { name: string; url: string; app: pg.Pool; owner: pg.Pool; prisma: TPrismaClient };

export function setUpChainDatabases(): { openDb(): Promise<TChainDb>; signingKey(): TSigningKey } {
  const opened: TChainDb[] = [];
  let key: TSigningKey | undefined;
  beforeAll(() => {
    process.env.TETHER_AUDIT_SIGNING_KEY = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    resetEnvCache();
    key = getAuditSigningKey();
  });
  afterAll(async () => {
    for (const db of opened) {
      await db.prisma.$disconnect().catch(() => undefined);
      await db.app.end().catch(() => undefined);
      await db.owner.end().catch(() => undefined);
      await dropTestDatabase(db.name);
    }
  });
  return {
    async openDb() {
      const { name, url } = await createTestDatabase();
      const app = createPool(url, { role: "tether_app" });
      const db = { name, url, app, owner: createPool(url), prisma: createPrismaClient(app) };
      opened.push(db);
      return db;
    },
    signingKey() {
      if (!key) throw new Error("signingKey() is available once the file's beforeAll has run");
      return key;
    },
  };
}
