// Where a gateway tasks/get spends its time, for bench/gateway.ts. Three views:
//   1. the steps of one call (lib/gateway's own functions, called in this process one after the
//      other), each timed with its database statements, next to sketches of the suggested
//      remedies timed the same way; then the statements of a whole poll and of a mint by purpose;
//   2. the whole route handler in this process, without Next around it, sequentially and flat out,
//      against the same upstream: what the gateway code costs apart from the framework;
//   3. a V8 CPU profile of the `next start` process under load, its samples grouped by where the
//      code comes from.
// Nothing here changes lib/gateway: it calls it, and counts the statements that reach `pg`.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { authenticateApiKey } from "@/lib/api-keys/authenticate-api-key";
import type { TActor } from "@/lib/auth/actor";
import { keyedHash } from "@/lib/crypto/secrets";
import { getPool } from "@/lib/db/client";
import { authorizeHandleUse, type TUsableHandle } from "@/lib/gateway/authorize-handle-use";
import { consumeTaskRateLimit } from "@/lib/gateway/consume-task-rate-limit";
import { findGatewayServer } from "@/lib/gateway/find-gateway-server";
import { handleMcpPost } from "@/lib/gateway/handle-mcp-post";
import { handleTokenHash } from "@/lib/gateway/handle-token";
import { recordHandleUse } from "@/lib/gateway/record-handle-use";
import { resolveGatewaySession } from "@/lib/gateway/resolve-gateway-session";
import { postUpstream, readUpstreamEvents, type TUpstreamServer } from "@/lib/gateway/upstream";
import { createTask, getTask, openSession, parseBody, type TMcpEndpoint, type TMcpSession } from "./mcp-http";

type TStatement = { sql: string; ms: number };
let recording: TStatement[] | null = null;
let instrumented = false;

/**
 * Times every statement this process sends through `pg` (Prisma's adapter included) while
 * `recording` is set. Patched on the prototype: there is no per-query hook in pg.
 */
function instrumentPg(): void {
  if (instrumented) return;
  instrumented = true;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const config = args[0];
    const sql = typeof config === "string" ? config : typeof (config as { text?: unknown })?.text === "string" ? (config as { text: string }).text : "";
    const sink = recording;
    if (!sink) return original.apply(this, args);
    const t0 = performance.now();
    const done = () => sink.push({ sql, ms: performance.now() - t0 });
    // pg.Pool#query (which Prisma's adapter uses) calls this with a callback; a client in a transaction, without.
    const last = args.length - 1;
    if (typeof args[last] === "function") {
      const callback = args[last] as (...a: unknown[]) => unknown;
      args[last] = (...a: unknown[]) => {
        done();
        return callback(...a);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (result && typeof (result as Promise<unknown>).then === "function") (result as Promise<unknown>).then(done, done);
    return result;
  };
}

/** What a statement is for, from its text: the gateway's hot-path statements by table. */
function classify(sql: string): string {
  const s = sql.replace(/\s+/g, " ").trim();
  if (/handle_policy/.test(s) && /token_hash/.test(s)) return "handle + policy check (authorizeHandleUse)";
  if (/^(BEGIN|COMMIT|ROLLBACK)/i.test(s)) return "transaction control (BEGIN / COMMIT)";
  if (/pg_advisory_xact_lock/.test(s)) return "advisory lock (policy or per-principal mint lock)";
  if (/FOR SHARE/i.test(s)) return "principal / session / API key FOR SHARE (mintHandle)";
  if (/INSERT INTO "?(public"\.")?audit_event/i.test(s)) return "audit event insert (recordAuditEvent)";
  if (/INSERT INTO "?(public"\.")?handle"? /i.test(s)) return "handle insert (mintHandle)";
  if (/COUNT\(/i.test(s) && /"handle"/.test(s)) return "live handle count (cap check)";
  if (/handle_policy/.test(s)) return "policy read (getCurrentPolicy)";
  if (/^UPDATE "?handle"? /i.test(s)) return "handle use update (recordHandleUse)";
  if (/rate_limit/.test(s)) return "rate-limit upsert (consumeTaskRateLimit)";
  if (/UPDATE "?api_key"?/i.test(s)) return "API key last_used_at (once a minute)";
  if (/"api_key"/.test(s) || /\bapi_key\b/.test(s)) return "API key lookup (authenticateApiKey)";
  if (/"principal"/.test(s)) return "principal of the API key (authenticateApiKey)";
  if (/UPDATE "?gateway_session"?/i.test(s)) return "session last_seen_at (once a minute)";
  if (/gateway_session/.test(s)) return "session lookup (resolveGatewaySession)";
  if (/mcp_server/.test(s)) return "server lookup (findGatewayServer)";
  return `other: ${s.slice(0, 60)}`;
}

const fmt = (n: number, digits = 2) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

type TStepResult = { name: string; wallMs: number; cpuMs: number; statements: number; dbMs: number };

/** Runs `fn` `n` times one after the other: median wall time, this process's CPU per call, statements per call and their time. */
async function timeStep(name: string, n: number, fn: () => Promise<unknown>): Promise<TStepResult> {
  for (let i = 0; i < Math.max(200, n); i++) await fn(); // warm: JIT, pool connections, plan caches
  const walls: number[] = [];
  const statements: TStatement[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    recording = statements;
    const t0 = performance.now();
    await fn();
    walls.push(performance.now() - t0);
    recording = null;
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    name,
    wallMs: median(walls),
    cpuMs: (cpu.user + cpu.system) / 1000 / n,
    statements: statements.length / n,
    dbMs: statements.reduce((a, s) => a + s.ms, 0) / n,
  };
}

export type TProfileInput = {
  /** A registered server whose upstream runs (a fresh one: its task store is small). */
  slug: string;
  /** One per service account; agent i uses key i modulo their number, as in the main runs. */
  apiKeys: string[];
  /** Only names the requests: they go to handleMcpPost in this process. */
  gatewayBaseUrl: string;
  /** Calls per timed step (view 1). */
  calls: number;
  /** Concurrent agents and seconds flat out (view 2). */
  agents: number;
  seconds: number;
};

/** Views 1 and 2, as markdown lines. */
export async function profileInProcess(input: TProfileInput): Promise<string[]> {
  instrumentPg();
  const endpointFor = (apiKey: string): TMcpEndpoint => ({
    url: new URL(`${input.gatewayBaseUrl}/mcp/${input.slug}`),
    authorization: `Bearer ${apiKey}`,
    handler: (request) => handleMcpPost(request, input.slug),
  });
  const apiKey = input.apiKeys[0]!;
  const endpoint = endpointFor(apiKey);
  const opened = await openSession(endpoint);
  const taskId = await createTask(endpoint, opened, "long_task", { seconds: 3600 }, 60 * 60_000);
  const session: TMcpSession = { endpoint, ...opened, taskId };

  // The steps of relayTaskCall for one tasks/get, in order, as handleMcpPost runs them.
  const meta = { requestId: "bench-profile" };
  const actor = (await authenticateApiKey(apiKey, meta)) as TActor;
  const server: TUpstreamServer = await findGatewayServer(input.slug);
  const gwSession = await resolveGatewaySession({ actor, server, sessionHeader: opened.sessionId });
  const handle = (await authorizeHandleUse({ actor, serverId: server.id, sessionId: gwSession.id, wire: "core_2025_11_25", token: taskId, operation: "tasks/get" })) as TUsableHandle;
  const upstreamCall = { server, sessionId: gwSession.upstreamSessionId, protocolVersion: gwSession.protocolVersion };
  let rpcId = 1;
  const n = input.calls;
  const steps = [
    await timeStep("authenticate the API key (authenticateApiKey)", n, () => authenticateApiKey(apiKey, meta)),
    await timeStep("find the server (findGatewayServer)", n, () => findGatewayServer(input.slug)),
    await timeStep("resolve the session (resolveGatewaySession)", n, () => resolveGatewaySession({ actor, server, sessionHeader: opened.sessionId })),
    await timeStep("count the call (consumeTaskRateLimit)", n, () => consumeTaskRateLimit({ actor, serverId: server.id, operation: "tasks/get" })),
    await timeStep("check the handle (authorizeHandleUse)", n, () => authorizeHandleUse({ actor, serverId: server.id, sessionId: gwSession.id, wire: "core_2025_11_25", token: taskId, operation: "tasks/get" })),
    await timeStep("ask the upstream (postUpstream + read the SSE answer)", n, async () => {
      for await (const event of readUpstreamEvents(await postUpstream(upstreamCall, { jsonrpc: "2.0", id: rpcId++, method: "tasks/get", params: { taskId: handle.upstreamTaskId } }))) void event;
    }),
    await timeStep("record the use (recordHandleUse, no transition)", n, () =>
      recordHandleUse({ actor, handle, operation: "tasks/get", observed: { status: "working", statusMessage: "step 1/10", pollInterval: 1000 } }),
    ),
  ];
  const whole = await timeStep("whole call: handleMcpPost in this process", n, () => getTask(session));
  // The same upstream exchange without the web-streams pipeline (TextDecoderStream, EventSourceParserStream).
  const wholeBody = await timeStep("for comparison: ask the upstream, answer read whole (response.text() and a split; no web streams)", n, async () => {
    const res = await postUpstream(upstreamCall, { jsonrpc: "2.0", id: rpcId++, method: "tasks/get", params: { taskId: handle.upstreamTaskId } });
    parseBody(res.headers.get("content-type") ?? "", await res.text());
  });
  const polls = await statementsByPurpose(n, () => getTask(session));

  // One statement instead of the five reads and writes before the upstream call: a sketch of the
  // suggestion, timed the same way (raw pg, as authorizeHandleUse already does).
  const combined = await timeCombinedStatement(apiKey, input.slug, opened.sessionId, taskId, n);
  const [durable, lazy] = await timeBookkeepingWrites(actor.id, handle.id, n);

  // Flat out, in this process: as many agents as the main runs, each on its own session.
  const sessions: TMcpSession[] = [];
  for (let i = 0; i < input.agents; i++) {
    const e = endpointFor(input.apiKeys[i % input.apiKeys.length]!);
    const o = await openSession(e);
    sessions.push({ endpoint: e, ...o, taskId: await createTask(e, o, "long_task", { seconds: 3600 }, 60 * 60_000) });
  }
  const flat = await flatOut(sessions, input.seconds);

  // Minting: task-augmented tools/call, round-robin over those sessions (one more live handle
  // for a few principals; the first round warms up). Short tasks, so the upstream stays light.
  let next = 0;
  const mint = () => {
    const s = sessions[next++ % sessions.length]!;
    return createTask(s.endpoint, s, "long_task", { seconds: 1 }, 60 * 60_000);
  };
  for (let i = 0; i < Math.min(20, sessions.length); i++) await mint();
  const mints = await statementsByPurpose(Math.min(60, sessions.length), mint);

  const lines = [
    `Profile, view 1: the steps of one gateway tasks/get, called one after the other in the bench process (n = ${n} each; wall = median; CPU = this process per call; statements = round trips to Postgres):`,
    "",
    "| step | wall ms | Node CPU ms | statements | statement wall ms |",
    "|---|---|---|---|---|",
    ...[...steps, whole].map((s) => `| ${s.name} | ${fmt(s.wallMs)} | ${fmt(s.cpuMs)} | ${fmt(s.statements, 1)} | ${fmt(s.dbMs)} |`),
    `| sum of the steps | ${fmt(steps.reduce((a, s) => a + s.wallMs, 0))} | ${fmt(steps.reduce((a, s) => a + s.cpuMs, 0))} | ${fmt(steps.reduce((a, s) => a + s.statements, 0), 1)} | ${fmt(steps.reduce((a, s) => a + s.dbMs, 0))} |`,
    `| sketch: the five database steps before the upstream call as one raw statement (see bench/support/gateway-profile.ts) | ${fmt(combined.wallMs)} | ${fmt(combined.cpuMs)} | 1.0 | ${fmt(combined.dbMs)} |`,
    `| the two bookkeeping writes (rate-limit upsert, handle use update) as raw pg, each its own commit | ${fmt(durable.wallMs)} | ${fmt(durable.cpuMs)} | 2.0 | ${fmt(durable.dbMs)} |`,
    `| the same with \`synchronous_commit = off\` (a crash may lose the last few hundred ms of counts) | ${fmt(lazy.wallMs)} | ${fmt(lazy.cpuMs)} | 2.0 | ${fmt(lazy.dbMs)} |`,
    `| ${wholeBody.name} | ${fmt(wholeBody.wallMs)} | ${fmt(wholeBody.cpuMs)} | 0.0 | 0.00 |`,
    "",
    `Statements of one whole tasks/get (n = ${n}): ${fmt(polls.perCall, 1)} per call, ${fmt(polls.wallMs)} ms median wall for the call`,
    "",
    "| purpose | per call | median ms |",
    "|---|---|---|",
    ...polls.rows,
    "",
    `Statements of one task-augmented tools/call, i.e. minting (n = ${mints.n}): ${fmt(mints.perCall, 1)} per call, ${fmt(mints.wallMs)} ms median wall for the call (upstream included)`,
    "",
    "| purpose | per call | median ms |",
    "|---|---|---|",
    ...mints.rows,
    "",
    `Profile, view 2: handleMcpPost in the bench process, ${input.agents} agents flat out for ${input.seconds} s (no Next.js): ${fmt(flat.perSecond, 0)} tasks/get/s, ${fmt(flat.cpuMs)} ms of Node CPU per call.`,
  ];
  return lines;
}

/** Runs `fn` `n` times one after the other and groups the statements each call sent by purpose. */
async function statementsByPurpose(n: number, fn: () => Promise<unknown>) {
  const byPurpose = new Map<string, number[]>();
  const walls: number[] = [];
  let count = 0;
  for (let i = 0; i < n; i++) {
    const statements: TStatement[] = [];
    recording = statements;
    const t0 = performance.now();
    await fn();
    walls.push(performance.now() - t0);
    recording = null;
    count += statements.length;
    for (const s of statements) byPurpose.set(classify(s.sql), [...(byPurpose.get(classify(s.sql)) ?? []), s.ms]);
  }
  const rows = [...byPurpose].map(([purpose, ms]) => `| ${purpose.replace(/\|/g, "\\|")} | ${fmt(ms.length / n, 2)} | ${fmt(median(ms))} |`);
  return { n, perCall: count / n, wallMs: median(walls), rows };
}

async function flatOut(sessions: TMcpSession[], seconds: number) {
  const until = performance.now() + seconds * 1000;
  let calls = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    sessions.map(async (s) => {
      while (performance.now() < until) {
        await getTask(s);
        calls++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: calls / elapsed, cpuMs: (cpu.user + cpu.system) / 1000 / calls };
}

/**
 * What the suggestion "one round trip before the upstream call" costs: the API key and its
 * principal, the server, the session, the rate-limit count and the handle with the policy in one
 * statement (a data-modifying CTE), plus nothing else. A sketch for timing, not a drop-in: it
 * returns the rows the five steps read and leaves the checks to the caller, as they are today.
 */
async function timeCombinedStatement(apiKey: string, slug: string, sessionHeader: string, token: string, n: number): Promise<TStepResult> {
  const pool = getPool();
  const params = [keyedHash("api-key", apiKey), slug, keyedHash("gateway-session", sessionHeader), handleTokenHash(token)];
  const sql = `
    WITH k AS (
      SELECT k.id, k.prefix, k.expires_at, k.revoked_at, k.last_used_at, p.id AS principal_id, p.kind, p.role, p.name, p.disabled_at
        FROM api_key k JOIN principal p ON p.id = k.principal_id WHERE k.hash = $1),
    s AS (SELECT id, slug, url, audience, credentials_enc FROM mcp_server WHERE slug = $2 AND enabled AND removed_at IS NULL),
    gs AS (SELECT id, principal_id, server_id, ended_at, upstream_session_enc, protocol_version, last_seen_at FROM gateway_session WHERE session_hash = $3),
    rl AS (
      INSERT INTO rate_limit (key, count, reset_at)
      SELECT 'gw-tasks:' || k.principal_id, 1, now() + interval '60 seconds' FROM k
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN rate_limit.reset_at <= now() THEN 1 ELSE rate_limit.count + 1 END,
        reset_at = CASE WHEN rate_limit.reset_at <= now() THEN now() + interval '60 seconds' ELSE rate_limit.reset_at END
      RETURNING count, reset_at),
    pol AS (SELECT require_session_binding, min_valid_version, allowed_operations, poll_audit_level FROM handle_policy ORDER BY version DESC LIMIT 1),
    h AS (SELECT id, accessor, token_hash, principal_id, server_id, session_id, policy_version, expires_at, revoked_at, status, status_message,
                 effective_ttl_ms, upstream_task_id_enc FROM handle WHERE token_hash = $4)
    SELECT k.*, s.id AS server_id, s.url, s.audience, s.credentials_enc, gs.id AS session_id, gs.ended_at, gs.upstream_session_enc, gs.protocol_version,
           rl.count, rl.reset_at, pol.*, h.id AS handle_id, h.status, h.expires_at AS handle_expires_at, h.upstream_task_id_enc
      FROM k CROSS JOIN pol LEFT JOIN s ON true LEFT JOIN gs ON true LEFT JOIN rl ON true LEFT JOIN h ON true`;
  const result = await timeStep("combined", n, () => pool.query(sql, params));
  return result;
}

/**
 * The two writes of every poll (consumeTaskRateLimit's upsert, recordHandleUse's update), as the
 * gateway sends them, on one connection: each is its own commit and waits for the WAL flush. Then
 * the same with synchronous_commit off for that connection, which these counters could afford.
 */
async function timeBookkeepingWrites(principalId: string, handleId: string, n: number): Promise<[TStepResult, TStepResult]> {
  const client = await getPool().connect();
  try {
    const writes = async () => {
      await client.query(
        `INSERT INTO rate_limit (key, count, reset_at) VALUES ($1, 1, now() + make_interval(secs => 60))
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN rate_limit.reset_at <= now() THEN 1 ELSE rate_limit.count + 1 END,
           reset_at = CASE WHEN rate_limit.reset_at <= now() THEN now() + make_interval(secs => 60) ELSE rate_limit.reset_at END
         RETURNING count, reset_at`,
        [`gw-tasks:${principalId}`],
      );
      await client.query("UPDATE handle SET last_used_at = now(), use_count = use_count + 1 WHERE id = $1::uuid", [handleId]);
    };
    const durable = await timeStep("durable", n, writes);
    await client.query("SET synchronous_commit = off");
    const lazy = await timeStep("lazy", n, writes);
    await client.query("RESET synchronous_commit");
    return [durable, lazy];
  } finally {
    client.release();
  }
}

// ---------------------------------------------------------------------------------------------
// View 3: the console's CPU profile
// ---------------------------------------------------------------------------------------------

type TProfileNode = { id: number; callFrame: { functionName: string; url: string }; children?: number[] };
type TCpuProfile = { nodes: TProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };

/** What part of the console a sample's code belongs to. */
function origin(frame: TProfileNode["callFrame"]): string | null {
  const { functionName: fn, url } = frame;
  if (fn === "(idle)") return null;
  if (fn === "(garbage collector)") return "garbage collection";
  if (fn === "(program)" || fn === "(root)") return "V8 and native code outside JS (program)";
  if (/node_modules\/@prisma\/client|lib\/db\/generated|@prisma\/client-runtime|query_compiler/.test(url)) return "Prisma client (query building, compiler, result mapping)";
  if (/node_modules\/(pg|pg-protocol|pg-pool|pg-types|@prisma\/adapter-pg|@prisma\/driver-adapter-utils)\//.test(url)) return "pg driver and Prisma's pg adapter";
  if (/node_modules\/next\//.test(url)) return "Next.js server (routing, request/response adaptation, proxy.ts)";
  if (/\.next\/server\//.test(url)) return "app code as bundled by Next (lib/gateway, zod, proxy.ts, eventsource-parser …)";
  if (/node:internal\/deps\/undici|undici/.test(url)) return "undici (fetch to the upstream, Request/Response/Headers)";
  if (/node:internal\/webstreams/.test(url)) return "web streams (SSE relay, body reading)";
  if (/node:internal\/crypto|node:crypto/.test(url)) return "node:crypto (HMAC, AES-GCM)";
  if (/node:internal\/async_hooks|node:async_hooks|async_local_storage/.test(url)) return "async hooks / AsyncLocalStorage";
  if (/^node:/.test(url)) return "Node core (http, net, streams, timers …)";
  if (url === "") return "V8 builtins called from JS (JSON, RegExp, Promise, Buffer …)";
  if (/node_modules\/([^/]+)/.test(url)) return `other package: ${/node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)![1]}`;
  return `other: ${path.basename(url)}`;
}

// A socket write wakes the process at the other end; on a machine whose cores are all busy the
// writer is often descheduled right there, and V8's wall-clock sampler charges that wait to
// `writev`. strace shows these calls take microseconds, so they are reported apart, not as CPU.
const DESCHEDULED = new Set(["writev", "writeBuffer", "writeUtf8String", "writeLatin1String"]);

export type TCpuProfileSummary = {
  origins: Array<{ origin: string; share: number }>;
  functions: Array<{ name: string; share: number }>;
  /** Share of all non-idle samples that landed in socket writes (see DESCHEDULED). */
  socketWrites: number;
  /** Whether the samples could be limited to the measured window. */
  windowed: boolean;
};

/** Samples of a profile inside `window` that were not idle. */
function busySamples(profile: TCpuProfile, window: [number, number]): number {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  let t = profile.startTime;
  let busy = 0;
  profile.timeDeltas.forEach((d, i) => {
    t += d;
    if (t >= window[0] && t <= window[1] && !idle.has(profile.samples[i]!)) busy++;
  });
  return busy;
}

/**
 * Self time of a CPU profile grouped by origin, and its top functions, as shares of the non-idle
 * samples outside socket writes, limited to `window` (µs, monotonic clock) when the profile covers it.
 */
export function summarizeCpuProfile(dir: string, window: [number, number], topFunctions = 15): TCpuProfileSummary {
  // One profile per process (the console server and the gateway process it forks): the one that
  // worked most in the window is the one that served the agents.
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  const busiest = files
    .map((file) => JSON.parse(readFileSync(path.join(dir, file), "utf8")) as TCpuProfile)
    .map((candidate) => ({ candidate, busy: busySamples(candidate, window) }))
    .sort((a, b) => b.busy - a.busy)[0]!;
  const profile = busiest.candidate;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const times: number[] = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) times.push((t += d));
  const windowed = profile.startTime <= window[0] && profile.endTime >= window[1];
  const origins = new Map<string, number>();
  const functions = new Map<string, number>();
  let all = 0;
  let writes = 0;
  profile.samples.forEach((id, i) => {
    if (windowed && (times[i]! < window[0] || times[i]! > window[1])) return;
    const frame = byId.get(id)!.callFrame;
    const o = origin(frame);
    if (!o) return;
    const dt = profile.timeDeltas[i] ?? 0;
    if (!frame.url && DESCHEDULED.has(frame.functionName)) {
      writes += dt;
      return;
    }
    origins.set(o, (origins.get(o) ?? 0) + dt);
    const where = frame.url ? frame.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/\.next\//, ".next/") : "native";
    const name = `${frame.functionName || "(anonymous)"} — ${where}`;
    functions.set(name, (functions.get(name) ?? 0) + dt);
    all += dt;
  });
  const shares = (m: Map<string, number>) => [...m].map(([k, v]) => ({ k, share: v / all })).sort((a, b) => b.share - a.share);
  return {
    origins: shares(origins).map(({ k, share }) => ({ origin: k, share })),
    functions: shares(functions)
      .slice(0, topFunctions)
      .map(({ k, share }) => ({ name: k, share })),
    socketWrites: writes / (all + writes),
    windowed,
  };
}
