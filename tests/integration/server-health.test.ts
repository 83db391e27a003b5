// The health worker against its own database and real upstream fixtures: statuses follow an
// upstream that stops and comes back (up → degraded → down → up, each transition audited by the
// system), slow answers count as degraded, two workers running at once never check a server
// twice, disabled servers are not checked, a seeded server gets its declarations on its first
// check, and the history is trimmed.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getPrisma } from "@/lib/db/client";
import { listServers } from "@/lib/servers/list-servers";
import { HEALTH_HISTORY_CHECKS } from "@/lib/servers/record-server-check";
import { registerServer } from "@/lib/servers/register-server";
import { runHealthChecks } from "@/lib/servers/run-health-checks";
import { setServerEnabled } from "@/lib/servers/set-server-enabled";
import { encryptBearerCredentials } from "@/lib/servers/server-credentials";
import { userActor } from "../factories/principals";
import { auditEventsFor } from "./support/audit";
import { setUpEnv, setUpTestSecrets } from "./support/env";
import { setUpOwnDatabase } from "./support/own-database";
import { startMcpFixture, type TMcpFixture } from "./support/upstream-fixtures";

setUpOwnDatabase();
setUpTestSecrets();
setUpEnv(() => ({ TETHER_SERVER_PROBE_TIMEOUT_MS: "3000", TETHER_SERVER_HEALTH_INTERVAL_SECONDS: "30" }));

const prisma = () => getPrisma();
let fixture: TMcpFixture;

beforeAll(async () => {
  fixture = await startMcpFixture({ tasks: true });
});

afterAll(async () => {
  await fixture.close();
});

// Each test decides which servers are due; nothing left over from another test may be.
beforeEach(async () => {
  await prisma().$executeRaw`UPDATE mcp_server SET enabled = false, next_health_check_at = NULL`;
});

const slug = () => `h-${randomUUID().slice(0, 8)}`;

async function register(url = fixture.url) {
  const { server } = await registerServer({ actor: userActor("admin"), data: { name: "Health", slug: slug(), url } });
  return server;
}

async function makeDue(...ids: string[]) {
  for (const id of ids) await prisma().$executeRaw`UPDATE mcp_server SET next_health_check_at = now() - interval '1 second' WHERE id = ${id}::uuid`;
}

async function checkNow(id: string) {
  await makeDue(id);
  expect(await runHealthChecks()).toBe(1);
  return prisma().mcpServer.findUniqueOrThrow({ where: { id } });
}

describe("health checks", () => {
  it("follow an upstream that stops and comes back: up → degraded → down → up, each transition audited once by the system", async () => {
    const server = await register();
    expect(server.health.status).toBe("up");

    await fixture.stop();
    try {
      expect(await checkNow(server.id)).toMatchObject({ health: "degraded", consecutiveFailures: 1, lastErrorKind: "unreachable" });
      expect(await checkNow(server.id)).toMatchObject({ health: "degraded", consecutiveFailures: 2 });
      const down = await checkNow(server.id);
      expect(down).toMatchObject({ health: "down", consecutiveFailures: 3, lastErrorKind: "unreachable", lastLatencyMs: null });
      expect(down.lastError).toMatch(/connection refused/);
      expect(await checkNow(server.id)).toMatchObject({ health: "down", consecutiveFailures: 4 });
    } finally {
      await fixture.start();
    }
    const back = await checkNow(server.id);
    expect(back).toMatchObject({ health: "up", consecutiveFailures: 0, lastError: null, lastErrorKind: null });
    expect(back.lastLatencyMs).toBeGreaterThanOrEqual(0);
    expect(back.nextHealthCheckAt!.getTime()).toBeGreaterThan(Date.now() + 20_000);

    const transitions = await auditEventsFor(prisma(), server.id, "server.health_changed");
    expect(transitions.map((e) => [(e.payload as { from: string }).from, (e.payload as { to: string }).to])).toEqual([
      ["unknown", "up"],
      ["up", "degraded"],
      ["degraded", "down"],
      ["down", "up"],
    ]);
    expect(transitions.every((e) => e.actorType === "system")).toBe(true);
    expect(transitions[2]!.payload).toMatchObject({ slug: server.slug, latencyMs: null, error: expect.stringMatching(/connection refused/) });

    // The history the sparkline draws: registration's check plus the five since.
    const [listed] = (await listServers({ actor: userActor("viewer") })).filter((s) => s.id === server.id);
    expect(listed!.health.recent.map((c) => c.status)).toEqual(["up", "degraded", "degraded", "down", "down", "up"]);
    expect(listed!.health.recent.map((c) => c.ok)).toEqual([true, false, false, false, false, true]);
  });

  it("counts a successful but slow check as degraded", async () => {
    const server = await register();
    fixture.setDelay(1100);
    try {
      const slow = await checkNow(server.id);
      expect(slow).toMatchObject({ health: "degraded", consecutiveFailures: 0, lastError: null });
      expect(slow.lastLatencyMs).toBeGreaterThan(1000);
    } finally {
      fixture.setDelay(0);
    }
    expect((await checkNow(server.id)).health).toBe("up");
  });

  it("never checks a server twice when two workers run at once, and nothing again until it is due", async () => {
    const servers = await Promise.all(Array.from({ length: 6 }, () => register()));
    await makeDue(...servers.map((s) => s.id));
    const before = fixture.initializeCount();
    const checksBefore = await prisma().serverHealthCheck.count({ where: { serverId: { in: servers.map((s) => s.id) } } });

    const [a, b] = await Promise.all([runHealthChecks({ limit: 4 }), runHealthChecks({ limit: 4 })]);
    const [c, d] = await Promise.all([runHealthChecks({ limit: 4 }), runHealthChecks({ limit: 4 })]);

    expect(a + b + c + d).toBe(6);
    expect(fixture.initializeCount() - before).toBe(6);
    expect(await prisma().serverHealthCheck.count({ where: { serverId: { in: servers.map((s) => s.id) } } })).toBe(checksBefore + 6);
    for (const s of servers) expect(await prisma().serverHealthCheck.count({ where: { serverId: s.id } })).toBe(2);
    expect(await runHealthChecks()).toBe(0);
  });

  it("skips (does not wait for, does not repeat) a server another worker holds", async () => {
    const [held, free] = [await register(), await register()];
    await makeDue(held.id, free.id);
    // Another worker, mid-claim: its transaction holds the row lock.
    const other = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await other.connect();
    try {
      await other.query("BEGIN");
      await other.query("SELECT id FROM mcp_server WHERE id = $1 FOR UPDATE", [held.id]);
      // Were the round to wait for that lock it would never end: the lock is held until the
      // ROLLBACK below. So it must finish at all, however slow the probe of the free server is.
      let timer: NodeJS.Timeout | undefined;
      const waitedOnLock = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("runHealthChecks() did not return within 10 s while another worker held a row lock: it waited for the lock")), 10_000);
      });
      try {
        expect(await Promise.race([runHealthChecks(), waitedOnLock])).toBe(1);
      } finally {
        clearTimeout(timer);
      }
      expect((await prisma().mcpServer.findUniqueOrThrow({ where: { id: held.id } })).nextHealthCheckAt!.getTime()).toBeLessThan(Date.now());
      await other.query("ROLLBACK");
    } finally {
      await other.end();
    }
    expect(await runHealthChecks()).toBe(1);
    expect(await runHealthChecks()).toBe(0);
  });

  it("does not check disabled servers", async () => {
    const server = await register();
    await setServerEnabled({ actor: userActor("admin"), data: { serverId: server.id, enabled: false, reason: "off for the test" } });
    await prisma().$executeRaw`UPDATE mcp_server SET next_health_check_at = now() - interval '1 second' WHERE id = ${server.id}::uuid`;
    const before = fixture.initializeCount();
    expect(await runHealthChecks()).toBe(0);
    expect(fixture.initializeCount()).toBe(before);
  });

  it("records what a seeded server (never checked by the registry) declares, on its first check", async () => {
    const s = slug();
    const row = await prisma().mcpServer.create({
      data: { slug: s, name: "Seeded", url: fixture.url, audience: `http://127.0.0.1:3000/mcp/${s}`, credentialsEnc: encryptBearerCredentials(s, "unused-by-the-fixture") },
    });
    expect(await checkNow(row.id)).toMatchObject({ health: "up", taskWires: ["core_2025_11_25"], protocolVersion: "2025-11-25" });
    const updated = await auditEventsFor(prisma(), row.id, "server.updated");
    expect(updated).toMatchObject([{ actorType: "system", payload: { slug: s, changes: ["serverInfo", "protocolVersion", "capabilities", "tools", "taskWires"] } }]);
  });

  it(`keeps at most ${HEALTH_HISTORY_CHECKS} checks per server`, async () => {
    const server = await register();
    await prisma().$executeRaw`
      INSERT INTO server_health_check (server_id, checked_at, ok, status, latency_ms)
      SELECT ${server.id}::uuid, now() - make_interval(secs => g), true, 'up', 5 FROM generate_series(1, ${HEALTH_HISTORY_CHECKS + 20}) g`;
    await checkNow(server.id);
    expect(await prisma().serverHealthCheck.count({ where: { serverId: server.id } })).toBe(HEALTH_HISTORY_CHECKS);
  });
});
