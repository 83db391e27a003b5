// GET /api/health's use case: up with the real test database, down (not thrown) when the
// database does not answer.
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { createPool, createPrismaClient } from "@/lib/db/client";
import { getHealth } from "@/lib/health/get-health";

type TGlobals = { tetherPool?: unknown; tetherPrisma?: unknown };
const g = globalThis as TGlobals;

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe("getHealth", () => {
  const saved = { pool: g.tetherPool, prisma: g.tetherPrisma };
  afterAll(() => {
    g.tetherPool = saved.pool;
    g.tetherPrisma = saved.prisma;
  });

  it("reports the database up", async () => {
    expect(await getHealth()).toMatchObject({ status: "ok", db: "up", version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it("reports the database down instead of failing", async () => {
    const pool = createPool(`postgresql://postgres@127.0.0.1:${await closedPort()}/postgres`);
    g.tetherPool = pool;
    g.tetherPrisma = createPrismaClient(pool);
    expect(await getHealth()).toEqual({ status: "degraded", db: "down", version: expect.any(String) });
    await pool.end().catch(() => undefined);
  });
});
