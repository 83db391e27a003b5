// The gateway's cache (lib/gateway/gateway-cache.ts) must never serve what was revoked: a change
// committed anywhere (this process, another instance, a psql session) reaches it through the
// Postgres notification its trigger sends, before the next call that could use it; a read that
// races a revocation cannot put the old row back; and without its LISTEN connection the cache is
// not trusted at all.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import pg from "pg";
import { systemActor, type TActor } from "@/lib/auth/actor";
import { getPool, getPrisma } from "@/lib/db/client";
import { gatewayCache, settleGatewayCache, stopGatewayCache } from "@/lib/gateway/gateway-cache";
import { handleTokenHash } from "@/lib/gateway/handle-token";
import { flushTaskRateLimits } from "@/lib/gateway/consume-task-rate-limit";
import { metrics } from "@/lib/metrics/registry";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { actorFor, createPrincipal } from "../factories/principals";
import { setUpEnv, setUpTestSecrets } from "./support/env";
import { connectAgent, createAgent, createTask, registerServer, startDemoServer, type TAgent, type TConnectedAgent } from "./support/gateway";
import { setUpOwnDatabase } from "./support/own-database";

setUpOwnDatabase();
setUpTestSecrets();
setUpEnv(() => ({ TETHER_GATEWAY_TASKS_PER_MINUTE: "25" }));

let demo: Awaited<ReturnType<typeof startDemoServer>>;
let server: { id: string; slug: string };
let admin: TActor;
let owner: pg.Pool;
const open: TConnectedAgent[] = [];

beforeAll(async () => {
  await ensureDefaultPolicy(getPrisma(), systemActor("test", "gateway-cache-test"));
  admin = actorFor(await createPrincipal(getPrisma(), { role: "admin" }));
  demo = await startDemoServer();
  server = await registerServer({ url: demo.url, bearerToken: demo.bearerToken });
  // Another connection, as another console instance or a DBA would write.
  owner = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
});

afterAll(async () => {
  for (const c of open) await c.client.close().catch(() => undefined);
  await owner?.end();
  await demo?.close();
  stopGatewayCache();
});

async function hits(kind: string): Promise<number> {
  const metric = await metrics().gatewayCacheLookups.get();
  return metric.values.find((v) => v.labels.kind === kind && v.labels.result === "hit")?.value ?? 0;
}

async function issue(agent: TAgent) {
  const connected = await connectAgent(agent, server.slug);
  open.push(connected);
  const task = await createTask(connected.client, "long_task", { seconds: 20 });
  const handle = await getPrisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(task.taskId) } });
  return { client: connected.client, token: task.taskId, handle };
}

const refused = (call: Promise<unknown>) =>
  call.then(
    () => false,
    (e: unknown) => e instanceof McpError && e.code === -32602,
  );

async function waitForListener(): Promise<void> {
  for (let i = 0; i < 100 && gatewayCache()?.readEpoch() === null; i++) await new Promise((r) => setTimeout(r, 50));
  expect(gatewayCache()?.readEpoch()).not.toBeNull();
}

describe("gateway cache", () => {
  it("serves repeated polls from memory", async () => {
    await waitForListener();
    const agent = await createAgent(admin);
    const { client, token } = await issue(agent);
    await client.experimental.tasks.getTask(token);
    const [handleHits, keyHits, sessionHits] = [await hits("handle"), await hits("apiKey"), await hits("session")];
    await client.experimental.tasks.getTask(token);
    await client.experimental.tasks.getTask(token);
    expect(await hits("handle")).toBeGreaterThanOrEqual(handleHits + 2);
    expect(await hits("apiKey")).toBeGreaterThanOrEqual(keyHits + 2);
    expect(await hits("session")).toBeGreaterThanOrEqual(sessionHits + 2);
  });

  it("refuses the very next call after another instance revokes the handle (NOTIFY on commit)", async () => {
    const agent = await createAgent(admin);
    const { client, token, handle } = await issue(agent);
    await client.experimental.tasks.getTask(token); // cached now
    await client.experimental.tasks.getTask(token);
    // Written on another connection with plain SQL: only the trigger's notification can tell this process.
    await owner.query(`UPDATE handle SET revoked_at = now(), revoke_reason = 'test', revoke_trigger = 'manual' WHERE id = $1::uuid`, [handle.id]);
    await settleGatewayCache(); // this process has now received everything committed before
    expect(await refused(client.experimental.tasks.getTask(token))).toBe(true);
  });

  it("delivers another instance's revocation without anyone waiting for it, within a second", async () => {
    const cache = gatewayCache()!;
    const agent = await createAgent(admin);
    const { client, token, handle } = await issue(agent);
    const key = handleTokenHash(token);
    // A poll caches the handle (unless a notification raced the read: then the next one does).
    for (let i = 0; i < 5 && cache.get("handle", key) === undefined; i++) await client.experimental.tasks.getTask(token);
    expect(cache.get("handle", key), "the handle never got into the cache").toBeDefined();
    await owner.query(`UPDATE handle SET revoked_at = now(), revoke_reason = 'test', revoke_trigger = 'manual' WHERE id = $1::uuid`, [handle.id]);
    // Committed. Nothing here asks for the notification: the cache must drop the row on its own.
    // Timed from the commit to the eviction only; waited for longer, so a slow run reports its latency.
    const committed = performance.now();
    let evictedAt: number | undefined;
    while (evictedAt === undefined && performance.now() - committed < 5_000) {
      if (cache.readEpoch() !== null && cache.get("handle", key) === undefined) evictedAt = performance.now();
      else await new Promise((r) => setTimeout(r, 5));
    }
    expect(evictedAt, "the revocation's notification did not reach the cache within 5 s").toBeDefined();
    expect(evictedAt! - committed).toBeLessThan(1_000);
    expect(await refused(client.experimental.tasks.getTask(token))).toBe(true);
  });

  it("stops honouring a revoked API key, a disabled agent and an ended session written elsewhere", async () => {
    const agent = await createAgent(admin);
    const { client, token } = await issue(agent);
    await client.experimental.tasks.getTask(token);
    const second = await createAgent(admin);
    const other = await issue(second);
    await other.client.experimental.tasks.getTask(other.token);
    const third = await createAgent(admin);
    const third_ = await issue(third);
    await third_.client.experimental.tasks.getTask(third_.token);

    await owner.query(`UPDATE api_key SET revoked_at = now() WHERE id = $1::uuid`, [agent.apiKeyId]);
    await owner.query(`UPDATE principal SET disabled_at = now() WHERE id = $1::uuid`, [second.principalId]);
    await owner.query(`UPDATE gateway_session SET ended_at = now(), end_reason = 'test' WHERE id = $1::uuid`, [third_.handle.sessionId]);
    await settleGatewayCache();
    await expect(client.experimental.tasks.getTask(token)).rejects.toThrow(); // 401: the key no longer authenticates
    await expect(other.client.experimental.tasks.getTask(other.token)).rejects.toThrow();
    await expect(third_.client.experimental.tasks.getTask(third_.token)).rejects.toThrow(); // 404 session
  });

  it("applies a new policy version to cached handles at once", async () => {
    const agent = await createAgent(admin);
    const { client, token } = await issue(agent);
    await client.experimental.tasks.getTask(token);
    const { rows } = await owner.query<{ version: number }>(`SELECT max(version) AS version FROM handle_policy`);
    const version = rows[0]!.version;
    await owner.query(
      `INSERT INTO handle_policy (version, max_ttl_ms, default_ttl_ms, max_live_handles_per_principal, require_session_binding, allowed_operations, poll_audit_level, min_valid_version, thresholds, reason)
       SELECT version + 1, max_ttl_ms, default_ttl_ms, max_live_handles_per_principal, require_session_binding, allowed_operations, poll_audit_level, version + 1, thresholds, 'test: invalidate'
         FROM handle_policy WHERE version = $1`,
      [version],
    );
    try {
      await settleGatewayCache();
      expect(await refused(client.experimental.tasks.getTask(token))).toBe(true);
    } finally {
      await owner.query(
        `INSERT INTO handle_policy (version, max_ttl_ms, default_ttl_ms, max_live_handles_per_principal, require_session_binding, allowed_operations, poll_audit_level, min_valid_version, thresholds, reason)
         SELECT version + 1, max_ttl_ms, default_ttl_ms, max_live_handles_per_principal, require_session_binding, allowed_operations, poll_audit_level, min_valid_version, thresholds, 'test: restore'
           FROM handle_policy WHERE version = $1`,
        [version + 1],
      );
    }
  });

  it("does not keep a row read before a revocation it raced", async () => {
    const cache = gatewayCache()!;
    const agent = await createAgent(admin);
    const { client, token, handle } = await issue(agent);
    const epoch = cache.readEpoch();
    // The read happened (epoch taken); the revocation commits and is delivered before the fill.
    await owner.query(`UPDATE handle SET revoked_at = now(), revoke_reason = 'test', revoke_trigger = 'manual' WHERE id = $1::uuid`, [handle.id]);
    await settleGatewayCache();
    cache.set("handle", handleTokenHash(token), { ...handle, stale: true }, { id: handle.id, principalId: handle.principalId }, epoch);
    expect(cache.get("handle", handleTokenHash(token))).toBeUndefined();
    expect(await refused(client.experimental.tasks.getTask(token))).toBe(true);
  });

  it("trusts nothing while its LISTEN connection is down, and recovers", async () => {
    const agent = await createAgent(admin);
    const { client, token, handle } = await issue(agent);
    await client.experimental.tasks.getTask(token);
    // Cut the listener and revoke in the same instant: no notification can reach this process.
    await owner.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`);
    await owner.query(`UPDATE handle SET revoked_at = now(), revoke_reason = 'test', revoke_trigger = 'manual' WHERE id = $1::uuid`, [handle.id]);
    for (let i = 0; i < 100 && gatewayCache()!.readEpoch() !== null; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await refused(client.experimental.tasks.getTask(token))).toBe(true);
    await waitForListener();
  });
});

describe("task rate limit", () => {
  it("refuses calls over the per-minute budget, audits the first refusal once, and shares the count through Postgres", async () => {
    const agent = await createAgent(admin);
    const { client, token } = await issue(agent);
    const outcomes: string[] = [];
    for (let i = 0; i < 30; i++) {
      outcomes.push(
        await client.experimental.tasks.getTask(token).then(
          () => "ok",
          (e: unknown) => (e instanceof McpError && /Rate limit exceeded/.test(e.message) ? "limited" : `other: ${String(e)}`),
        ),
      );
    }
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(25);
    expect(outcomes.slice(25)).toEqual(Array(5).fill("limited"));
    const audited = await getPrisma().auditEvent.count({ where: { action: "gateway.rate_limited", actorId: agent.principalId } });
    expect(audited).toBe(1);
    await flushTaskRateLimits();
    const { rows } = await getPool().query<{ count: number }>(`SELECT count FROM rate_limit WHERE key = $1`, [`gw-tasks:${agent.principalId}`]);
    expect(rows[0]!.count).toBe(30);
  });

  it("counts what another instance already used in the window", async () => {
    const agent = await createAgent(admin);
    // Another instance used the whole budget before this one saw the agent.
    await owner.query(`INSERT INTO rate_limit (key, count, reset_at) VALUES ($1, 25, now() + interval '60 seconds')`, [`gw-tasks:${agent.principalId}`]);
    const { client, token } = await issue(agent);
    await expect(client.experimental.tasks.getTask(token)).rejects.toThrow(/Rate limit exceeded/);
  });
});
