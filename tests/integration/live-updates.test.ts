// Live updates (GET /api/live): a change committed by the gateway, the status sync path, a
// revocation or a health check reaches every connected stream of this process through Postgres
// NOTIFY (migration live_updates) and the process's one LISTEN connection, within a second; a bulk
// change arrives as a summary, not a flood; streams are authenticated and authorized, end when the
// viewer signs out or the browser goes away, say when this instance stops hearing Postgres, and
// never carry a token, hash or upstream task id. The route handler is called as Next calls it.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { NextRequest } from "next/server";
import { createParser } from "eventsource-parser";
import pg from "pg";
import { GET as liveRoute } from "@/app/api/live/route";
import { createApiKey } from "@/lib/api-keys/create-api-key";
import { systemActor, type TActor } from "@/lib/auth/actor";
import type { TRole } from "@/lib/auth/permissions";
import { getPrisma } from "@/lib/db/client";
import { stopPgListener } from "@/lib/db/pg-listener";
import { gatewayCache, stopGatewayCache } from "@/lib/gateway/gateway-cache";
import { decryptSecret } from "@/lib/crypto/secrets";
import { handleTokenHash, upstreamTaskContext } from "@/lib/gateway/handle-token";
import { applyObservedStatus } from "@/lib/handles/apply-observed-status";
import { revokeHandle } from "@/lib/handles/revoke-handle";
import { liveHub, stopLiveHub } from "@/lib/live/live-hub";
import { openLiveStream } from "@/lib/live/open-live-stream";
import type { TLiveHandleEvent, TLiveServerEvent } from "@/lib/live/schemas";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { insertHandle } from "../factories/handles";
import { actorFor, createConsoleSession, createPrincipal, userActor } from "../factories/principals";
import { setUpTestSecrets } from "./support/env";
import { expectAppError } from "./support/errors";
import { connectAgent, createAgent, createTask, registerServer, startDemoServer, type TConnectedAgent } from "./support/gateway";
import { setUpOwnDatabase } from "./support/own-database";

// No role lacks handles.read today. To prove the stream refuses one that would, a test may take
// the right away from a role for a moment; everything else uses the real permission matrix.
const withheld = vi.hoisted(() => ({ roles: new Set<string>() }));
vi.mock("@/lib/auth/permissions", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@/lib/auth/permissions")>();
  return {
    ...actual,
    roleCan: (role: TRole, permission: string) => !(permission === "handles.read" && withheld.roles.has(role)) && actual.roleCan(role, permission as never),
  };
});

// When the gateway's transaction that folds an observed status change into a handle has committed
// (performance.now(), by handle id): delivery is timed from there, not from the agent's call. The
// real recordHandleUse runs unchanged.
const gatewayCommits = vi.hoisted(() => new Map<string, number>());
vi.mock("@/lib/gateway/record-handle-use", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@/lib/gateway/record-handle-use")>();
  return {
    ...actual,
    recordHandleUse: async (input: Parameters<typeof actual.recordHandleUse>[0]) => {
      await actual.recordHandleUse(input);
      if (input.observed !== null && input.observed.status !== input.handle.status) gatewayCommits.set(input.handle.id, performance.now());
    },
  };
});

setUpOwnDatabase(); // notifications are per database: no other file's changes on this channel
setUpTestSecrets();

const BASE = "http://tether.test";
const noParams = { params: Promise.resolve({}) } as { params: Promise<Record<string, never>> };
const prisma = () => getPrisma();

let demo: Awaited<ReturnType<typeof startDemoServer>>;
let server: { id: string; slug: string };
let admin: TActor;
/** Another connection, as another console instance or the status-sync worker process would write. */
let other: pg.Pool;
const agents: TConnectedAgent[] = [];
const streams: TStream[] = [];

beforeAll(async () => {
  await ensureDefaultPolicy(prisma(), systemActor("test", "live-updates-test"));
  admin = actorFor(await createPrincipal(prisma(), { role: "admin" }));
  demo = await startDemoServer();
  server = await registerServer({ url: demo.url, bearerToken: demo.bearerToken });
  other = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
});

afterAll(async () => {
  for (const s of streams) s.close();
  for (const a of agents) await a.client.close().catch(() => undefined);
  await other?.end();
  await demo?.close();
  stopLiveHub();
  stopGatewayCache();
  stopPgListener();
});

type TEvent = { event: string; data: unknown; at: number };
type TStream = {
  response: Response;
  events: TEvent[];
  raw(): string;
  /** Resolves with the first event (from `from` on) that matches, or fails after `timeoutMs`. */
  next(match: (e: TEvent) => boolean, timeoutMs?: number, from?: number): Promise<TEvent>;
  close(): void;
  ended: Promise<void>;
};

async function agentKey(role: TRole = "viewer"): Promise<string> {
  const account = await createPrincipal(prisma(), { kind: "service", email: null, role });
  return (await createApiKey({ actor: userActor("admin"), data: { principalId: account.id, name: "live test" } })).key;
}

function read(response: Response, abort: AbortController): TStream {
  const events: TEvent[] = [];
  let raw = "";
  const waiters = new Set<() => void>();
  const parser = createParser({
    onEvent: (e) => {
      events.push({ event: e.event ?? "message", data: JSON.parse(e.data) as unknown, at: performance.now() });
      for (const w of waiters) w();
    },
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const ended = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) break;
      raw += value;
      parser.feed(value);
    }
    for (const w of waiters) w();
  })();
  const stream: TStream = {
    response,
    events,
    raw: () => raw,
    ended,
    close: () => abort.abort(),
    next(match, timeoutMs = 1_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.slice(from).find(match);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => [e.event, e.data]))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
  streams.push(stream);
  return stream;
}

/** GET /api/live through the route handler, authenticated with an agent's API key. */
async function connect(key: string, query = ""): Promise<TStream> {
  const abort = new AbortController();
  const headers = { authorization: `Bearer ${key}` };
  const response = await liveRoute(new NextRequest(`${BASE}/api/live${query}`, { headers, signal: abort.signal }), noParams);
  if (response.status !== 200) return { response } as TStream; // an error body, read by the test
  const stream = read(response, abort);
  await stream.next((e) => e.event === "ready");
  return stream;
}

/** Waits until this process's LISTEN is in effect (a new stream opens it). */
async function connectLive(key: string, query = ""): Promise<TStream> {
  const stream = await connect(key, query);
  const ready = stream.events[0]!.data as { live: boolean };
  if (!ready.live) await stream.next((e) => e.event === "state" && (e.data as { live: boolean }).live, 5_000);
  return stream;
}

const handleEvent = (accessor: string, change?: string) => (e: TEvent) =>
  e.event === "handle" && (e.data as TLiveHandleEvent).changes.some((c) => c.accessor === accessor && (change === undefined || c.change === change));

async function newHandle() {
  const owner = await createPrincipal(prisma(), { kind: "service", email: null });
  return insertHandle(prisma(), { serverId: server.id, principalId: owner.id });
}

describe("GET /api/live", () => {
  // Without any credentials the route asks next-auth for the console session, which needs Next's
  // request scope: that 401 is checked in the browser test (tests/e2e/live-updates.spec.ts).
  it("answers 401 with the error body for a bad or revoked API key, and 400 for an unknown topic", async () => {
    const badKey = await connect(`tth_00000000_${"x".repeat(43)}`);
    expect(badKey.response.status).toBe(401);
    expect(await badKey.response.json()).toMatchObject({ error: { code: "UNAUTHENTICATED" } });
    const account = await createPrincipal(prisma(), { kind: "service", email: null, role: "admin" });
    const created = await createApiKey({ actor: userActor("admin"), data: { principalId: account.id, name: "live test" } });
    await prisma().apiKey.update({ where: { id: created.dto.id }, data: { revokedAt: new Date() } });
    expect((await connect(created.key)).response.status).toBe(401);
    const bad = await connect(await agentKey(), "?topics=handle,secrets");
    expect(bad.response.status).toBe(400);
    expect(await bad.response.json()).toMatchObject({ error: { code: "BAD_REQUEST", issues: [{ path: "topics", message: expect.stringMatching(/Unknown topic "secrets"/) }] } });
  });

  it("answers 403 to a role without handles.read", async () => {
    const key = await agentKey("viewer");
    withheld.roles.add("viewer");
    try {
      const refused = await connect(key);
      expect(refused.response.status).toBe(403);
      expect(await refused.response.json()).toMatchObject({ error: { code: "FORBIDDEN", message: expect.stringMatching(/handles\.read/) } });
    } finally {
      withheld.roles.delete("viewer");
    }
  });

  it("opens an event stream: retry hint, ready, no caching", async () => {
    const stream = await connect(await agentKey("auditor"));
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(stream.response.headers.get("cache-control")).toBe("no-store, no-transform");
    expect(stream.raw()).toMatch(/^retry: 3000\n\n/);
    expect(stream.events[0]).toMatchObject({ event: "ready", data: { delivery: "notify", topics: ["handle", "server"], heartbeatMs: 15_000 } });
    stream.close();
  });

  it("delivers a status change the status-sync path commits to two streams within a second", async () => {
    const [a, b] = [await connectLive(await agentKey("viewer")), await connectLive(await agentKey("reviewer"))];
    const handle = await newHandle();
    const [fromA, fromB] = [a.events.length, b.events.length];
    await prisma().$transaction((tx) =>
      applyObservedStatus(tx, { handle, observed: { status: "input_required", statusMessage: "Need a decision" }, source: "poller", requestId: `req-${randomUUID()}`, countUse: false }),
    );
    const committed = performance.now();
    // Waits longer than the claim, so a slow run fails on the latency it measured, not on "no event".
    const [ea, eb] = await Promise.all([a.next(handleEvent(handle.accessor, "status"), 5_000, fromA), b.next(handleEvent(handle.accessor, "status"), 5_000, fromB)]);
    for (const e of [ea, eb]) {
      expect(e.at - committed).toBeLessThan(1_000);
      expect((e.data as TLiveHandleEvent).changes).toContainEqual({ change: "status", accessor: handle.accessor, status: "input_required", revoked: false, serverId: server.id });
    }
  });

  it("delivers a status change seen at the gateway by a real agent's tasks/get, and the revocation", async () => {
    const stream = await connectLive(await agentKey());
    const agent = await createAgent(admin);
    const connected = await connectAgent(agent, server.slug);
    agents.push(connected);
    let from = stream.events.length;
    const task = await createTask(connected.client, "long_task", { seconds: 1 });
    const row = await prisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(task.taskId) } });
    await stream.next(handleEvent(row.accessor, "issued"), 1_000, from);

    // The upstream task completes after about a second: poll as an agent would until the gateway sees it.
    from = stream.events.length;
    let status: string | undefined;
    for (const deadline = Date.now() + 10_000; status !== "completed" && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await connected.client.experimental.tasks.getTask(task.taskId)).status;
    }
    expect(status, "the gateway did not see the upstream task complete within 10 s").toBe("completed");
    const committed = gatewayCommits.get(row.id);
    expect(committed, "the gateway committed no status change for the handle").toBeDefined();
    const completed = await stream.next(handleEvent(row.accessor, "status"), 5_000, from);
    expect(completed.at - committed!).toBeLessThan(1_000);
    expect((completed.data as TLiveHandleEvent).changes.find((c) => c.accessor === row.accessor)).toMatchObject({ status: "completed", revoked: false });

    from = stream.events.length;
    await revokeHandle({ actor: admin, data: { accessor: row.accessor, reason: "live test" } });
    const revoked = await stream.next(handleEvent(row.accessor, "revoked"), 1_000, from);
    expect((revoked.data as TLiveHandleEvent).changes.find((c) => c.accessor === row.accessor)).toMatchObject({ revoked: true });

    // Nothing secret ever went down the stream: not the token, its hash, the upstream task id or their ciphertexts.
    const secrets = await other.query<{ token_hash: string; token_enc: string; upstream_task_id_enc: string; upstream_task_id_hash: string }>(
      `SELECT token_hash, token_enc, upstream_task_id_enc, upstream_task_id_hash FROM handle WHERE id = $1::uuid`,
      [row.id],
    );
    const upstreamTaskId = decryptSecret(secrets.rows[0]!.upstream_task_id_enc, upstreamTaskContext(row.id));
    for (const secret of [task.taskId, upstreamTaskId, ...Object.values(secrets.rows[0]!)]) expect(stream.raw()).not.toContain(secret);
    expect(stream.raw()).not.toMatch(/statusMessage|token|Need a decision/i);
  });

  it("hears a change another instance commits, and a health transition of a server", async () => {
    const stream = await connectLive(await agentKey("support"));
    const handle = await newHandle();
    const from = stream.events.length;
    await other.query(`UPDATE handle SET cancel_state = 'requested' WHERE id = $1::uuid`, [handle.id]);
    await stream.next(handleEvent(handle.accessor, "cancel"), 1_000, from);
    await other.query(`UPDATE mcp_server SET health = 'down' WHERE id = $1::uuid`, [server.id]);
    const health = await stream.next((e) => e.event === "server" && (e.data as TLiveServerEvent).changes.some((c) => c.serverId === server.id && c.health === "down"), 1_000, from);
    expect((health.data as TLiveServerEvent).changes[0]).toMatchObject({ change: "health", enabled: true, pollingPaused: false, removed: false });
    // A routine check that changes nothing a viewer sees stays silent; so do use counts and poll bookkeeping.
    const quiet = stream.events.length;
    await other.query(`UPDATE mcp_server SET last_checked_at = now(), last_latency_ms = 3 WHERE id = $1::uuid`, [server.id]);
    await other.query(`UPDATE handle SET use_count = use_count + 1, last_used_at = now(), next_poll_at = now() WHERE id = $1::uuid`, [handle.id]);
    await new Promise((r) => setTimeout(r, 300));
    expect(stream.events.slice(quiet).filter((e) => e.event !== "ping")).toEqual([]);
  });

  it("only streams the topics asked for", async () => {
    const stream = await connectLive(await agentKey(), "?topics=server");
    expect(stream.events[0]!.data).toMatchObject({ topics: ["server"] });
    const handle = await newHandle();
    await other.query(`UPDATE mcp_server SET health = 'up' WHERE id = $1::uuid`, [server.id]);
    await stream.next((e) => e.event === "server");
    expect(stream.events.some(handleEvent(handle.accessor))).toBe(false);
  });

  it("tells a page whether a change of its topics may have committed since its data was read that the new stream will not bring", async () => {
    const key = await agentKey("support");
    const watcher = await connectLive(key); // keeps this instance listening throughout
    const ready = (stream: TStream) => stream.events[0]!.data as { stale: boolean };
    // `since` is the server's time when it received the page's request; the stream allows the
    // clocks of two instances a second apart, so "after" below means more than a second after.
    const quiet = () => new Promise((r) => setTimeout(r, 1_200));
    await quiet();

    // A handle frame went out to the streams open then: a page whose data was read before it may not hold it.
    const before = Date.now();
    const handle = await newHandle();
    await watcher.next(handleEvent(handle.accessor));
    expect(ready(await connect(key, `?since=${before}`))).toMatchObject({ stale: true });
    expect(ready(await connect(key, `?topics=server&since=${before}`))).toMatchObject({ stale: false }); // not its topic
    expect(ready(await connect(key))).toMatchObject({ stale: false }); // none named: a reconnect, which refreshes anyway

    // A page whose data was read well after that frame holds the change.
    await quiet();
    expect(ready(await connect(key, `?since=${Date.now()}`))).toMatchObject({ stale: false });

    const serverBefore = Date.now();
    const from = watcher.events.length;
    await other.query(`UPDATE mcp_server SET health = 'degraded' WHERE id = $1::uuid`, [server.id]);
    await watcher.next((e) => e.event === "server", 1_000, from);
    expect(ready(await connect(key, `?topics=server&since=${serverBefore}`))).toMatchObject({ stale: true });

    // An instance that was not listening all that time cannot know: stale.
    stopLiveHub();
    expect(ready(await connect(key, `?since=${Date.now()}`))).toMatchObject({ live: false, stale: true });
    for (const bad of ["-1", "1.5", "soon", "", "9".repeat(16)]) {
      const refused = await connect(key, `?since=${bad}`);
      expect(refused.response.status, bad).toBe(400);
      expect(await refused.response.json()).toMatchObject({ error: { code: "BAD_REQUEST", issues: [{ path: "since", message: expect.stringMatching(/^since must be a time in whole milliseconds/) }] } });
    }
  });

  it("turns a bulk change of 2,000 handles into one summary frame", async () => {
    const stream = await connectLive(await agentKey("reviewer"));
    const owner = await createPrincipal(prisma(), { kind: "service", email: null });
    await other.query(
      `INSERT INTO handle (id, accessor, token_hash, token_enc, upstream_task_id_enc, upstream_task_id_hash, wire, server_id, principal_id, audience, tool_name, policy_version, effective_ttl_ms, expires_at)
       SELECT gen_random_uuid(), 'hdl_bulk' || md5(random()::text), md5(random()::text), 'x', 'x', md5(random()::text), 'core_2025_11_25', $1::uuid, $2::uuid, 'a', 't', 1, 3600000, now() + interval '1 hour'
         FROM generate_series(1, 2000)`,
      [server.id, owner.id],
    );
    const issued = await stream.next((e) => e.event === "handle" && (e.data as TLiveHandleEvent).bulk?.count === 2000);
    expect((issued.data as TLiveHandleEvent).bulk).toEqual({ count: 2000, kinds: ["issued"], serverIds: [server.id], moreServers: false });
    const from = stream.events.length;
    await other.query(`UPDATE handle SET revoked_at = now(), revoke_reason = 'bulk', revoke_trigger = 'manual' WHERE principal_id = $1::uuid`, [owner.id]);
    const revoked = await stream.next((e) => e.event === "handle" && (e.data as TLiveHandleEvent).bulk !== null, 1_000, from);
    expect((revoked.data as TLiveHandleEvent).bulk).toMatchObject({ count: 2000, kinds: ["revoked"] });
    await new Promise((r) => setTimeout(r, 250));
    expect(stream.events.slice(from).filter((e) => e.event === "handle")).toHaveLength(1);
    expect(stream.raw().length).toBeLessThan(20_000);
  });

  it("coalesces a burst of single changes into a few frames, each handle once with its latest state", async () => {
    const stream = await connectLive(await agentKey());
    const handles = await Promise.all(Array.from({ length: 30 }, () => newHandle()));
    const from = stream.events.length;
    for (const status of ["input_required", "completed"]) {
      for (const h of handles) await other.query(`UPDATE handle SET status = $2::"TaskStatus" WHERE id = $1::uuid`, [h.id, status]);
    }
    const last = handles.at(-1)!;
    await stream.next((e) => e.event === "handle" && (e.data as TLiveHandleEvent).changes.some((c) => c.accessor === last.accessor && c.status === "completed"), 2_000, from);
    const frames = stream.events.slice(from).filter((e) => e.event === "handle");
    expect(frames.length).toBeLessThan(30);
    const latest = new Map(frames.flatMap((f) => (f.data as TLiveHandleEvent).changes.map((c) => [c.accessor, c.status] as const)));
    for (const h of handles) expect(latest.get(h.accessor)).toBe("completed");
  });

  it("tells the stream when this instance stops hearing Postgres, and when it hears again", async () => {
    const stream = await connectLive(await agentKey());
    const from = stream.events.length;
    await other.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`);
    await stream.next((e) => e.event === "state" && (e.data as { live: boolean }).live === false, 2_000, from);
    await stream.next((e) => e.event === "state" && (e.data as { live: boolean }).live === true, 5_000, from);
    const handle = await newHandle();
    await stream.next(handleEvent(handle.accessor, "issued"), 1_000, from);
  });

  it("ends when the browser goes away, and keeps one LISTEN for all streams and the gateway cache", async () => {
    const before = liveHub().connections();
    const [a, b] = [await connectLive(await agentKey()), await connectLive(await agentKey())];
    expect(liveHub().connections()).toBe(before + 2);
    for (let i = 0; i < 100 && gatewayCache()?.readEpoch() === null; i++) await new Promise((r) => setTimeout(r, 20));
    expect(gatewayCache()?.readEpoch()).not.toBeNull();
    const { rows } = await other.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`);
    expect(rows[0]!.n).toBe(1);
    a.close();
    await a.ended;
    expect(liveHub().connections()).toBe(before + 1);
    b.close();
    await b.ended;
    expect(liveHub().connections()).toBe(before);
  });
});

describe("openLiveStream", () => {
  it("ends the stream of a console user who signs out, at the next heartbeat", async () => {
    const user = await createPrincipal(prisma(), { role: "reviewer" });
    const session = await createConsoleSession(prisma(), user);
    const actor: TActor = { ...actorFor(user), sessionId: session.id };
    const abort = new AbortController();
    const stream = read(new Response(await openLiveStream({ actor, query: {}, signal: abort.signal, heartbeatMs: 100 })), abort);
    await stream.next((e) => e.event === "ping");
    await prisma().consoleSession.update({ where: { id: session.id }, data: { endedAt: new Date(), endReason: "signed_out" } });
    await stream.next((e) => e.event === "end" && (e.data as { reason: string }).reason === "signed-out");
    await stream.ended;
  });

  it("ends the stream of an agent whose API key is revoked, and when the lifetime is over", async () => {
    const account = await createPrincipal(prisma(), { kind: "service", email: null, role: "viewer" });
    const created = await createApiKey({ actor: userActor("admin"), data: { principalId: account.id, name: "live test" } });
    const actor: TActor = { type: "service", id: account.id, role: "viewer", name: account.name, apiKeyId: created.dto.id, request: { requestId: randomUUID() } };
    const first = read(new Response(await openLiveStream({ actor, query: {}, heartbeatMs: 100, maxStreamMs: 60_000 })), new AbortController());
    await prisma().apiKey.update({ where: { id: created.dto.id }, data: { revokedAt: new Date() } });
    await first.next((e) => e.event === "end" && (e.data as { reason: string }).reason === "signed-out");
    const viewer = userActor("viewer");
    const second = read(new Response(await openLiveStream({ actor: viewer, query: {}, maxStreamMs: 150 })), new AbortController());
    await second.next((e) => e.event === "end" && (e.data as { reason: string }).reason === "lifetime");
    await second.ended;
  });

  it("validates the query strictly", async () => {
    await expectAppError(openLiveStream({ actor: userActor("viewer"), query: { topics: "handle", extra: "1" } }), "BAD_REQUEST");
    await expectAppError(openLiveStream({ actor: userActor("viewer"), query: { topics: "x".repeat(200) } }), "BAD_REQUEST");
  });
});
