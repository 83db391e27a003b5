// `npm run bench:gateway` — issue #4's MCP gateway overhead targets, measured on this machine with
// the console as users run it: the production build under `next start` (rebuilt first when .next
// is missing or stale), in front of a throwaway Postgres database (created and migrated here,
// dropped at the end, also on failure or Ctrl-C).
//
// Agents speak raw Streamable HTTP (bench/support/mcp-http.ts: node:http, keep-alive, no SDK),
// each with its own service account and API key, so the per-principal rate limit counts each
// agent apart; TETHER_GATEWAY_TASKS_PER_MINUTE is raised as well so that it never refuses a poll.
// Every run starts a fresh demo upstream in its own process (an upstream slows down as its task
// store grows); each agent initializes once, creates a long_task (one hour; through the gateway
// that mints a handle, which is timed too) and polls tasks/get on it. Direct and gateway runs
// alternate (A B A B …), after a warm-up of each:
//   a. throughput: all agents poll as fast as they can; the median of the pairs' ratios;
//   b. latency at a fixed offered load (open loop, 100 tasks/get per second spread over the
//      agents, latency counted from the scheduled send): p50 and p99, gateway − direct;
//   c. a and b again with 100,000 more live handles of other principals in the table.
// When a target is missed (or with --profile), a profile of where the gateway's time goes
// follows: CPU per call of each process, ceilings (a do-nothing proxy, the console's cheapest
// route), lib/gateway's steps timed in this process with their database statements, and a V8 CPU
// profile of the console (bench/support/gateway-profile.ts).
//
// Prints markdown tables; exit code 1 when a target is missed. About five minutes by default.
// Flags: --quick (about two minutes), --pairs=N and --bulk-pairs=N (throughput pairs without and
// with the bulk handles), --seconds=S, --latency-pairs=N, --latency-seconds=S, --agents=N,
// --rps=N, --handles=N, --one-principal (all agents share one service account and key),
// --profile / --no-profile, --profile-only (warm-up and profile: for work on lib/gateway).
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type pg from "pg";
import { createApiKey } from "@/lib/api-keys/create-api-key";
import { createServiceAccount } from "@/lib/api-keys/create-service-account";
import { generateAuditSigningKeyPem } from "@/lib/audit/signing-key";
import { systemActor, type TActor } from "@/lib/auth/actor";
import { encryptSecret } from "@/lib/crypto/secrets";
import { createPool, getPool, getPrisma } from "@/lib/db/client";
import { createTestDatabase, dropTestDatabase, type TTestDatabase } from "@/lib/db/test-database";
import { resetEnvCache } from "@/lib/env";
import { serverCredentialsContext } from "@/lib/gateway/upstream";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { createTask, getStatus, getTask as getRawTask, keepAliveAgent, openSession, type TMcpEndpoint, type TMcpSession } from "./support/mcp-http";
import { closeSdkClients, createSdkTask, getSdkTask, openSdkClient } from "./support/mcp-sdk";
import { ensureProductionBuild, startBareProxy, startNextServer, startUpstreamProcess, type TNextServer, type TUpstreamProcess, type TUrlProcess } from "./support/next-server";
import { cpuMeter, loadAverage, processTree, type TProcessTimes } from "./support/process-cpu";
import { profileInProcess, summarizeCpuProfile } from "./support/gateway-profile";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    pairs: { type: "string" },
    "bulk-pairs": { type: "string" },
    seconds: { type: "string" },
    "latency-pairs": { type: "string" },
    "latency-seconds": { type: "string" },
    agents: { type: "string" },
    rps: { type: "string" },
    handles: { type: "string" },
    "one-principal": { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    "no-profile": { type: "boolean", default: false },
    "profile-only": { type: "boolean", default: false },
    client: { type: "string", default: "raw" },
  },
});
const num = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Number(value));
const QUICK = flags.quick;
const AGENTS = num(flags.agents, 50);
const PAIRS = num(flags.pairs, QUICK ? 2 : 4);
const BULK_PAIRS = num(flags["bulk-pairs"], QUICK ? 1 : 3);
const SECONDS = num(flags.seconds, QUICK ? 4 : 8);
const LATENCY_PAIRS = num(flags["latency-pairs"], QUICK ? 1 : 3);
const LATENCY_SECONDS = num(flags["latency-seconds"], QUICK ? 5 : 5);
const RPS = num(flags.rps, 100);
const HANDLES = num(flags.handles, 100_000);
const ONE_PRINCIPAL = flags["one-principal"];
/** sdk: agents are official MCP SDK clients (what agents are); raw: bare keep-alive HTTP (the cheapest possible client). */
const CLIENT = flags.client === "raw" ? "raw" : "sdk";
const WARM_UP_SECONDS = QUICK ? 2 : 4;
const PROFILE_ONLY = flags["profile-only"];
const PROFILE_CALLS = QUICK ? 150 : 250;
const PROFILE_SECONDS = 3;
/** Discarded at the start of every run: first requests on new sockets and new sessions. */
const RUN_WARM_IN_MS = 1_000;
const TASK_TTL_MS = 60 * 60_000;
/** A poll refused or failed is a broken run, not a slow one. */
const MAX_ERROR_RATE = 0.001;

const TARGET_RATIO = 0.5;
const TARGET_ADDED_P50_MS = 3;
const TARGET_ADDED_P99_MS = 15;

type TMode = "direct" | "gateway" | "proxy";
type TRow = [what: string, target: string, measured: string, ok?: boolean];
type TAgentKey = { principalId: string; apiKey: string };
type TCpu = { next: number; upstream: number; postgres: number; bench: number };
/** `window`: the measured stretch on the monotonic clock, in µs (V8 CPU profiles use the same clock). */
type TRunResult = {
  mode: TMode;
  requests: number;
  seconds: number;
  perSecond: number;
  latencies: number[];
  mintMs: number[];
  /** CPU seconds, and seconds spent waiting for a core, per process group over the window. */
  cpu: TCpu;
  wait: TCpu;
  window: [number, number];
  load: string;
};

const log = (line: string) => console.log(`[bench:gateway] ${line}`);
const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

// ---------------------------------------------------------------------------------------------
// The world: database, secrets, agents, the console
// ---------------------------------------------------------------------------------------------

type TWorld = { db: TTestDatabase; owner: pg.Pool; next: TNextServer; nextEnv: Record<string, string>; agents: TAgentKey[]; runs: number };

/** The secrets the console needs with DATABASE_URL set (scripts/start.ts); this process uses the same ones to register servers. */
function benchSecrets(): Record<string, string> {
  return {
    TETHER_HMAC_KEY: randomBytes(48).toString("base64"),
    TETHER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    TETHER_SESSION_SECRET: randomBytes(48).toString("base64"),
    TETHER_AUDIT_SIGNING_KEY: generateAuditSigningKeyPem(),
  };
}

async function createAgents(admin: TActor): Promise<TAgentKey[]> {
  const count = ONE_PRINCIPAL ? 1 : AGENTS;
  const keys: TAgentKey[] = [];
  for (let i = 1; i <= count; i++) {
    const account = await createServiceAccount({ actor: admin, data: { name: `bench-agent-${i}`, role: "viewer" } });
    const created = await createApiKey({ actor: admin, data: { principalId: account.id, name: "bench key", expiresInDays: 1 } });
    keys.push({ principalId: account.id, apiKey: created.key });
  }
  return keys;
}

/** A registered server for this run's upstream, as an admin would add it (credentials encrypted, bound to the slug). */
async function registerServer(world: TWorld, upstream: TUpstreamProcess): Promise<string> {
  const slug = `bench-${++world.runs}-${randomUUID().slice(0, 6)}`;
  await getPrisma().mcpServer.create({
    data: {
      slug,
      name: `Bench upstream ${world.runs}`,
      url: upstream.url,
      audience: `${world.next.baseUrl}/mcp/${slug}`,
      credentialsEnc: encryptSecret(JSON.stringify({ type: "bearer", token: upstream.bearerToken }), serverCredentialsContext(slug)),
    },
  });
  return slug;
}

// ---------------------------------------------------------------------------------------------
// One run
// ---------------------------------------------------------------------------------------------

async function openAgents(endpoints: TMcpEndpoint[]): Promise<{ sessions: TMcpSession[]; mintMs: number[] }> {
  const sessions: TMcpSession[] = new Array(endpoints.length);
  const mintMs: number[] = [];
  let next = 0;
  // A few at a time: task creation is timed, and a burst of fifty would time the queue instead.
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = next++; i < endpoints.length; i = next++) {
        const endpoint = endpoints[i]!;
        if (CLIENT === "sdk") {
          const sdk = await openSdkClient(endpoint);
          const t0 = performance.now();
          const taskId = await createSdkTask(sdk, "long_task", { seconds: 3600, label: `bench ${i}` }, TASK_TTL_MS);
          mintMs.push(performance.now() - t0);
          sessions[i] = { endpoint, sessionId: "", protocolVersion: "", taskId, sdk };
          continue;
        }
        const session = await openSession(endpoint);
        const t0 = performance.now();
        const taskId = await createTask(endpoint, session, "long_task", { seconds: 3600, label: `bench ${i}` }, TASK_TTL_MS);
        mintMs.push(performance.now() - t0);
        sessions[i] = { endpoint, ...session, taskId };
      }
    }),
  );
  return { sessions, mintMs };
}

type TMeasure = { start(): Promise<void>; stop(): Promise<{ cpu: TCpu; wait: TCpu; window: [number, number] }> };
const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

/** CPU of the hop (the console, or the bare proxy), the upstream, the bench database's backends and this process. */
function cpuOf(world: TWorld, upstream: TUpstreamProcess, hop: number | null): TMeasure {
  const meters = {
    next: cpuMeter(() => (hop === null ? [] : processTree(hop))),
    upstream: cpuMeter(() => [upstream.pid]),
    // Only the backends of the bench database: other databases on this server are not ours.
    postgres: cpuMeter(async () => (await world.owner.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1", [world.db.name])).rows.map((r) => r.pid)),
    bench: cpuMeter(() => [process.pid]),
  };
  let stops: Array<() => Promise<TProcessTimes>> = [];
  let from = 0;
  return {
    start: async () => {
      stops = await Promise.all(Object.values(meters).map((m) => m.start()));
      from = monotonicMicros();
    },
    stop: async () => {
      const to = monotonicMicros();
      const [next, upstream, postgres, bench] = (await Promise.all(stops.map((s) => s()))) as [TProcessTimes, TProcessTimes, TProcessTimes, TProcessTimes];
      return {
        cpu: { next: next.cpu, upstream: upstream.cpu, postgres: postgres.cpu, bench: bench.cpu },
        wait: { next: next.wait, upstream: upstream.wait, postgres: postgres.wait, bench: bench.wait },
        window: [from, to],
      };
    },
  };
}

function errorBudget(requests: number, errors: number, firstError: unknown, mode: TMode) {
  if (errors > Math.max(1, requests * MAX_ERROR_RATE)) {
    throw new Error(`${mode}: ${errors} of ${requests + errors} tasks/get failed; first: ${firstError instanceof Error ? firstError.message : String(firstError)}`);
  }
}

/** Closed loop: every agent polls again as soon as its answer is read. */
/** One poll, by whichever client the agents are. */
const getTask = (session: TMcpSession) => (session.sdk ? getSdkTask(session as TMcpSession & { sdk: NonNullable<TMcpSession["sdk"]> }) : getRawTask(session));

async function pollFlatOut(sessions: TMcpSession[], seconds: number, measure: TMeasure, mode: TMode) {
  const t0 = performance.now();
  const from = t0 + RUN_WARM_IN_MS;
  const until = from + seconds * 1000;
  let requests = 0;
  let errors = 0;
  let firstError: unknown;
  const latencies: number[] = [];
  let started = false;
  // CPU is read over the same stretch the calls are counted in, not over the drain after it.
  const measuring = sleep(RUN_WARM_IN_MS).then(async () => {
    await measure.start();
    started = true;
    await sleep(Math.max(0, until - performance.now()));
    return measure.stop();
  });
  await Promise.all(
    sessions.map(async (session) => {
      for (let now = performance.now(); now < until; now = performance.now()) {
        try {
          await getTask(session);
          const end = performance.now();
          if (started && end <= until) {
            requests++;
            latencies.push(end - now);
          }
        } catch (err) {
          errors++;
          firstError ??= err;
        }
      }
    }),
  );
  const measured = await measuring;
  errorBudget(requests, errors, firstError, mode);
  const elapsed = (until - from) / 1000;
  return { requests, seconds: elapsed, perSecond: requests / elapsed, latencies, ...measured };
}

/** Open loop: a call every 1000/rps ms whatever the previous ones are doing, round-robin over the agents. */
async function pollAtRate(sessions: TMcpSession[], rps: number, seconds: number, measure: TMeasure, mode: TMode) {
  const interval = 1000 / rps;
  const warmCalls = Math.round((RUN_WARM_IN_MS / 1000) * rps);
  const total = warmCalls + Math.round(seconds * rps);
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  let errors = 0;
  let firstError: unknown;
  const t0 = performance.now();
  let starting: Promise<void> | undefined;
  for (let i = 0; i < total; i++) {
    const scheduled = t0 + i * interval;
    // Not awaited: reading /proc and pg_stat_activity must not hold up the schedule.
    if (i === warmCalls) starting = measure.start();
    const wait = scheduled - performance.now();
    if (wait > 1) await sleep(wait);
    const session = sessions[i % sessions.length]!;
    pending.push(
      getTask(session).then(
        () => {
          if (i >= warmCalls) latencies.push(performance.now() - scheduled);
        },
        (err: unknown) => {
          errors++;
          firstError ??= err;
        },
      ),
    );
  }
  await Promise.all(pending);
  await starting;
  const measured = await measure.stop();
  errorBudget(latencies.length, errors, firstError, mode);
  return { requests: latencies.length, seconds, perSecond: latencies.length / seconds, latencies, ...measured };
}

/**
 * A server whose upstream is gone, disabled as an admin would: the console's background health
 * checks (TETHER_WORKERS) skip disabled servers instead of probing dead ports during later runs.
 */
async function disableServer(slug: string | undefined): Promise<void> {
  if (slug) await getPrisma().mcpServer.update({ where: { slug }, data: { enabled: false } });
}

async function run(world: TWorld, mode: TMode, kind: "throughput" | "latency", seconds: number): Promise<TRunResult> {
  const upstream = await startUpstreamProcess(root);
  let proxy: TUrlProcess | undefined;
  let slug: string | undefined;
  try {
    const keys = world.agents;
    let endpoints: TMcpEndpoint[];
    if (mode === "gateway") {
      slug = await registerServer(world, upstream);
      const url = new URL(`${world.next.baseUrl}/mcp/${slug}`);
      endpoints = Array.from({ length: AGENTS }, (_, i) => ({ url, authorization: `Bearer ${keys[i % keys.length]!.apiKey}` }));
    } else {
      proxy = mode === "proxy" ? await startBareProxy(root, upstream) : undefined;
      const url = new URL(proxy?.url ?? upstream.url);
      endpoints = Array.from({ length: AGENTS }, () => ({ url, authorization: `Bearer ${upstream.bearerToken}` }));
    }
    const { sessions, mintMs } = await openAgents(endpoints);
    const measure = cpuOf(world, upstream, mode === "gateway" ? world.next.pid : (proxy?.pid ?? null));
    const load = loadAverage();
    const result = kind === "throughput" ? await pollFlatOut(sessions, seconds, measure, mode) : await pollAtRate(sessions, RPS, seconds, measure, mode);
    return { mode, ...result, mintMs, load };
  } finally {
    await closeSdkClients();
    await proxy?.stop();
    await upstream.stop();
    await disableServer(slug);
  }
}

/** The console's cheapest route with a database statement (GET /api/health: one SELECT 1), flat out: a ceiling for any route of this server. */
async function healthFlatOut(world: TWorld, seconds: number) {
  const url = new URL(`${world.next.baseUrl}/api/health`);
  for (let i = 0; i < 200; i++) await getStatus(url);
  const pids = processTree(world.next.pid);
  const meter = await cpuMeter(() => pids).start();
  const until = performance.now() + seconds * 1000;
  let calls = 0;
  await Promise.all(
    Array.from({ length: AGENTS }, async () => {
      while (performance.now() < until) {
        if ((await getStatus(url)) !== 200) throw new Error("GET /api/health failed");
        calls++;
      }
    }),
  );
  return { perSecond: calls / seconds, consoleMs: ((await meter()).cpu * 1000) / calls };
}

// ---------------------------------------------------------------------------------------------
// 100,000 live handles
// ---------------------------------------------------------------------------------------------

// Base64url of random bytes, like the keyed hashes and AES-GCM envelopes lib/crypto/secrets.ts writes.
const B64 = (bytes: string) => `rtrim(translate(encode(${bytes}, 'base64'), '+/', '-_'), '=')`;
const RANDOM_32 = "sha256(uuid_send(gen_random_uuid()))";
const ENVELOPE = (ctBytes: number) =>
  `'v1.' || ${B64(`substring(${RANDOM_32} from 1 for 12)`)} || '.' || ${B64(`substring(${RANDOM_32} from 1 for 16)`)} || '.' || ${B64(`substring(${RANDOM_32} || ${RANDOM_32} from 1 for ${ctBytes})`)}`;

/**
 * Live handles of other agents, as minting leaves them (lib/gateway/mint-handle.ts): 100 per
 * principal (the default cap), each principal with an API key and a gateway session, all at one
 * server of their own (disabled, so the health checks leave its dead URL alone); unique token
 * hashes and accessors, encrypted columns in the envelope format, a mix of statuses, expiring
 * 40–60 minutes from now (so they stay live through the bench). Their
 * `handle.issued` audit events are left out: the sealer would chain 100,000 events during the
 * measurements, which is a different benchmark (bench:audit).
 */
async function insertLiveHandles(world: TWorld, count: number): Promise<void> {
  const t0 = performance.now();
  const principals = Math.ceil(count / 100);
  const base = world.next.baseUrl;
  const c = await world.owner.connect();
  try {
    await c.query("BEGIN");
    const { rows } = await c.query<{ id: string }>(
      `INSERT INTO mcp_server (id, slug, name, url, audience, enabled, updated_at) VALUES (gen_random_uuid(), 'bench-bulk', 'Bench bulk upstream', 'http://127.0.0.1:9/mcp', $1, false, now()) RETURNING id`,
      [`${base}/mcp/bench-bulk`],
    );
    const serverId = rows[0]!.id;
    await c.query(
      `INSERT INTO principal (id, kind, role, name, created_at, updated_at)
       SELECT md5('bench-bulk-p' || g)::uuid, 'service', 'viewer', 'bench bulk agent ' || g, now() - interval '2 days', now() - interval '2 days'
         FROM generate_series(1, $1::int) g`,
      [principals],
    );
    await c.query(
      `INSERT INTO api_key (id, principal_id, name, prefix, hash, created_at, expires_at, last_used_at)
       SELECT md5('bench-bulk-k' || g)::uuid, md5('bench-bulk-p' || g)::uuid, 'bulk key', 'tth_' || substr(md5('bench-bulk-prefix' || g), 1, 8), ${B64(RANDOM_32)},
              now() - interval '2 days', now() + interval '30 days', now() - interval '1 minute'
         FROM generate_series(1, $1::int) g`,
      [principals],
    );
    await c.query(
      `INSERT INTO gateway_session (id, session_hash, principal_id, server_id, api_key_id, upstream_session_enc, protocol_version, client_info, created_at, last_seen_at)
       SELECT md5('bench-bulk-s' || g)::uuid, ${B64(RANDOM_32)}, md5('bench-bulk-p' || g)::uuid, $2::uuid, md5('bench-bulk-k' || g)::uuid,
              ${ENVELOPE(36)}, '2025-11-25', '{"name": "bulk-agent", "version": "1.0.0"}'::jsonb, now() - interval '30 minutes', now() - interval '1 minute'
         FROM generate_series(1, $1::int) g`,
      [principals, serverId],
    );
    await c.query(
      `INSERT INTO handle (id, accessor, token_hash, token_enc, upstream_task_id_enc, upstream_task_id_hash, wire, server_id, principal_id, session_id, api_key_id,
                           audience, tool_name, policy_version, requested_ttl_ms, upstream_ttl_ms, effective_ttl_ms, status, status_message, poll_interval_ms,
                           created_at, expires_at, last_updated_at, last_used_at, use_count)
       SELECT gen_random_uuid(), 'hdl_' || substr(md5('bench-bulk-a' || g), 1, 20), ${B64(RANDOM_32)}, ${ENVELOPE(47)}, ${ENVELOPE(36)}, ${B64(RANDOM_32)},
              'core_2025_11_25', $2::uuid, md5('bench-bulk-p' || p)::uuid, md5('bench-bulk-s' || p)::uuid, md5('bench-bulk-k' || p)::uuid,
              $3, (ARRAY['long_task', 'queued_task', 'input_task', 'failing_task'])[1 + g % 4], 1, CASE WHEN g % 3 = 0 THEN NULL ELSE 3600000 END, 3600000, 3600000,
              (ARRAY['working', 'working', 'working', 'working', 'working', 'working', 'completed', 'completed', 'failed', 'input_required'])[1 + g % 10]::"TaskStatus",
              CASE WHEN g % 10 < 6 THEN 'step ' || (1 + g % 10) || '/10' ELSE NULL END, 1000,
              created, created + interval '1 hour', created + interval '10 seconds', now() - make_interval(secs => g % 60), g % 200
         FROM generate_series(1, $1::int) g,
              LATERAL (SELECT (g - 1) / 100 + 1 AS p, now() - make_interval(secs => 60 + (g % 1140)) AS created) x`,
      [count, serverId, `${base}/mcp/bench-bulk`],
    );
    await c.query("COMMIT");
  } catch (err) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
  // A table that grew over hours has been analysed by autovacuum; one loaded a second ago has not.
  await world.owner.query("VACUUM (ANALYZE) handle, principal, api_key, gateway_session");
  const { rows } = await world.owner.query<{ live: string }>("SELECT count(*)::text AS live FROM handle WHERE revoked_at IS NULL AND expires_at > now()");
  log(`inserted ${fmt(count)} live handles of ${fmt(principals)} other principals in ${fmt((performance.now() - t0) / 1000, 1)} s; ${fmt(Number(rows[0]!.live))} live handles in the table`);
}

/** The scans Postgres chooses, with the bulk handles in place, for the two handle queries on the gateway's paths. */
async function handlePlans(world: TWorld): Promise<string> {
  const scans = async (sql: string, params: unknown[]) => {
    const { rows } = await world.owner.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, params);
    return rows.map((r) => r["QUERY PLAN"].trim().replace(/^->\s*/, "").replace(/\s+\(cost=.*$/, "")).filter((l) => /Scan/.test(l)).join(", ");
  };
  // The statement of authorizeHandleUse (checking), and the count mintHandle and relayToolCall make (minting).
  const check = await scans(
    `SELECT h.id FROM (SELECT * FROM handle_policy ORDER BY version DESC LIMIT 1) p LEFT JOIN handle h ON h.token_hash = $1`,
    ["x".repeat(43)],
  );
  const count = await scans(`SELECT count(*) FROM handle WHERE principal_id = $1::uuid AND revoked_at IS NULL AND expires_at > now()`, [world.agents[0]!.principalId]);
  return `checking: ${check}; minting's live count: ${count}`;
}

// ---------------------------------------------------------------------------------------------
// Phases and the report
// ---------------------------------------------------------------------------------------------

type TPhase = { label: string; pairs: Array<{ direct: TRunResult; gateway: TRunResult }>; latency: { direct: TRunResult[]; gateway: TRunResult[] } };
const runTable: string[] = [];

function cpuPerCall(r: TRunResult): string {
  const per = (s: number) => fmt((s * 1000) / r.requests, 2);
  return `${per(r.cpu.next)} / ${per(r.cpu.upstream)} / ${per(r.cpu.postgres)} / ${per(r.cpu.bench)}`;
}

/** Time the hop, the upstream and Postgres spent runnable without a core, per call: what other load on the machine added. */
function waitPerCall(r: TRunResult): string {
  return fmt(((r.wait.next + r.wait.upstream + r.wait.postgres) * 1000) / r.requests, 2);
}

function recordRun(phase: string, label: string, r: TRunResult, extra = "") {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  runTable.push(
    `| ${phase} | ${label} | ${r.mode} | ${fmt(r.perSecond)} | ${fmt(percentile(sorted, 50), 2)} / ${fmt(percentile(sorted, 99), 2)} | ${cpuPerCall(r)} | ${waitPerCall(r)} | ${extra || "—"} | ${r.load} |`,
  );
  log(`${phase} ${label} ${r.mode}: ${fmt(r.perSecond)} tasks/get/s, p50 ${fmt(percentile(sorted, 50), 2)} ms, p99 ${fmt(percentile(sorted, 99), 2)} ms${extra ? `, ratio ${extra}` : ""} (load ${r.load})`);
}

async function runPhase(world: TWorld, label: string, pairs: number): Promise<TPhase> {
  const phase: TPhase = { label, pairs: [], latency: { direct: [], gateway: [] } };
  for (let i = 1; i <= pairs; i++) {
    const direct = await run(world, "direct", "throughput", SECONDS);
    recordRun(label, `throughput ${i}`, direct);
    const gateway = await run(world, "gateway", "throughput", SECONDS);
    recordRun(label, `throughput ${i}`, gateway, `${fmt((100 * gateway.perSecond) / direct.perSecond)} %`);
    phase.pairs.push({ direct, gateway });
  }
  for (let i = 1; i <= LATENCY_PAIRS; i++) {
    for (const mode of ["direct", "gateway"] as const) {
      const r = await run(world, mode, "latency", LATENCY_SECONDS);
      recordRun(label, `${RPS} rps ${i}`, r);
      phase.latency[mode].push(r);
    }
  }
  return phase;
}

function phaseRows(phase: TPhase): TRow[] {
  const ratios = phase.pairs.map((p) => p.gateway.perSecond / p.direct.perSecond);
  const ratio = median(ratios);
  const direct = median(phase.pairs.map((p) => p.direct.perSecond));
  const gateway = median(phase.pairs.map((p) => p.gateway.perSecond));
  // Latency: per pair (a disturbed run on a shared machine spoils one pair, not the verdict), the
  // median of the pairs' added p50 and p99 decides; the pooled samples are shown alongside.
  const sorted = (r: TRunResult) => [...r.latencies].sort((a, b) => a - b);
  const added = (p: number) => phase.latency.direct.map((d, i) => percentile(sorted(phase.latency.gateway[i]!), p) - percentile(sorted(d), p));
  const [added50, added99] = [added(50), added(99)];
  const [a50, a99] = [median(added50), median(added99)];
  const pooled = (mode: "direct" | "gateway") => phase.latency[mode].flatMap((r) => r.latencies).sort((a, b) => a - b);
  const [d, g] = [pooled("direct"), pooled("gateway")];
  const [d50, g50, d99, g99] = [percentile(d, 50), percentile(g, 50), percentile(d, 99), percentile(g, 99)];
  const perPair = (xs: number[]) => xs.map((x) => fmt(x, 1)).join(", ");
  const mint = (mode: "direct" | "gateway") => [...phase.pairs.map((p) => p[mode]), ...phase.latency[mode]].flatMap((r) => r.mintMs).sort((a, b) => a - b);
  const [md, mg] = [mint("direct"), mint("gateway")];
  const [m50d, m50g, m99d, m99g] = [percentile(md, 50), percentile(mg, 50), percentile(md, 99), percentile(mg, 99)];
  const tag = `${phase.label}: `;
  return [
    [
      `${tag}tasks/get, ${AGENTS} agents flat out: gateway ÷ direct, median of ${phase.pairs.length} alternating pairs`,
      `≥ ${TARGET_RATIO * 100} %`,
      `${fmt(ratio * 100)} % (${fmt(gateway)}/s vs ${fmt(direct)}/s; pairs: ${ratios.map((r) => `${fmt(r * 100)} %`).join(", ")})`,
      ratio >= TARGET_RATIO,
    ],
    [
      `${tag}tasks/get at ${RPS}/s, p50 added by the gateway: median of ${added50.length} alternating pairs (${LATENCY_SECONDS} s each, n = ${fmt(d.length)} + ${fmt(g.length)})`,
      `≤ ${TARGET_ADDED_P50_MS} ms`,
      `${fmt(a50, 2)} ms (pairs: ${perPair(added50)} ms; pooled ${fmt(d50, 2)} → ${fmt(g50, 2)} ms)`,
      a50 <= TARGET_ADDED_P50_MS,
    ],
    [
      `${tag}tasks/get at ${RPS}/s, p99 added by the gateway: median of the pairs`,
      `≤ ${TARGET_ADDED_P99_MS} ms`,
      `${fmt(a99, 2)} ms (pairs: ${perPair(added99)} ms; pooled ${fmt(d99, 2)} → ${fmt(g99, 2)} ms)`,
      a99 <= TARGET_ADDED_P99_MS,
    ],
    [
      `${tag}minting: task-augmented tools/call (long_task), 4 agents at a time, p50 / p99 added by the gateway (n = ${fmt(md.length)} + ${fmt(mg.length)})`,
      `same bounds? ≤ ${TARGET_ADDED_P50_MS} / ≤ ${TARGET_ADDED_P99_MS} ms`,
      `${fmt(m50g - m50d, 2)} / ${fmt(m99g - m99d, 2)} ms (p50 ${fmt(m50d, 2)} → ${fmt(m50g, 2)} ms, p99 ${fmt(m99d, 2)} → ${fmt(m99g, 2)} ms)`,
    ],
  ];
}

async function main() {
  const started = performance.now();
  // This process runs lib/ too (registering servers, and the in-process profile): same settings.
  const secrets = {
    ...benchSecrets(),
    // Thousands of polls a minute per agent; the limit is not what is measured.
    TETHER_GATEWAY_TASKS_PER_MINUTE: "1000000000",
  };
  Object.assign(process.env, secrets);
  resetEnvCache();
  let world: TWorld | undefined;
  let db: TTestDatabase | undefined;
  let owner: pg.Pool | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      await world?.next.stop().catch(() => undefined);
      keepAliveAgent.destroy();
      await getPool().end().catch(() => undefined);
      await owner?.end().catch(() => undefined);
      if (db) await dropTestDatabase(db.name).catch((err: Error) => console.error(`could not drop ${db!.name}: ${err.message}`));
    })());
  process.once("SIGINT", () => {
    console.error("\ninterrupted; stopping the console and dropping the bench database…");
    void cleanup().finally(() => process.exit(130));
  });

  const table: TRow[] = [];
  const phases: TPhase[] = [];
  let profile: string[] = [];
  try {
    const load = loadAverage();
    log(`load average at start: ${load} (${availableParallelism()} CPUs)`);
    if (Number(load.split(" ")[0]) > 0.5 * availableParallelism()) log("warning: the machine is busy; latencies and ratios will show it (see the waiting column)");
    await ensureProductionBuild(root, log);
    db = await createTestDatabase();
    owner = createPool(db.url, { max: 2 });
    process.env.DATABASE_URL = db.url;
    resetEnvCache();
    await ensureDefaultPolicy(getPrisma(), systemActor("bench", `bench-gateway-${randomUUID()}`));
    const adminRow = await getPrisma().principal.create({ data: { kind: "user", role: "admin", name: "Bench admin", email: `bench-admin-${randomUUID()}@example.test` } });
    const admin: TActor = { type: "user", id: adminRow.id, role: "admin", name: adminRow.name, email: adminRow.email, request: { requestId: `bench-${randomUUID()}` } };
    const agents = await createAgents(admin);
    const nextEnv = { ...secrets, DATABASE_URL: db.url, HOST: "127.0.0.1" };
    const next = await startNextServer(root, nextEnv);
    world = { db, owner, next, nextEnv, agents, runs: 0 };
    log(
      `database ${db.name}; console at ${next.baseUrl} (next start, pid ${next.pid}); ${AGENTS} agents on ${agents.length} service account(s); ` +
        `${PAIRS} + ${BULK_PAIRS} throughput pairs of ${SECONDS} s, ${LATENCY_PAIRS} latency pairs of ${LATENCY_SECONDS} s at ${RPS}/s per phase`,
    );

    // Warm-up: JIT, the console's first requests to each route, the pool's connections.
    for (const mode of ["direct", "gateway"] as const) {
      const r = await run(world, mode, "throughput", WARM_UP_SECONDS);
      log(`warm-up ${mode}: ${fmt(r.perSecond)} tasks/get/s (discarded)`);
    }
    if (!PROFILE_ONLY) {
      phases.push(await runPhase(world, "few handles", PAIRS));
      await insertLiveHandles(world, HANDLES);
      const plans = await handlePlans(world);
      phases.push(await runPhase(world, `${fmt(HANDLES / 1000)}k live handles`, BULK_PAIRS));
      for (const phase of phases) table.push(...phaseRows(phase));
      table.push([`${fmt(HANDLES / 1000)}k live handles: query plans of the handle statements`, "index scans", plans]);
    }
    const missed = table.some((r) => r[3] === false);
    if (PROFILE_ONLY || flags.profile || (missed && !flags["no-profile"])) {
      log(missed ? "a target was missed: profiling the gateway …" : "profiling the gateway …");
      profile = await profileSection(world, phases.flatMap((p) => p.pairs));
    }
  } finally {
    await cleanup();
  }

  console.log(
    "\nRuns. Latency from the send (flat out) or from the scheduled send (fixed rate). CPU ms per tasks/get: console / upstream / Postgres / load generator. " +
      "Waiting: ms per call that the console, the upstream and Postgres spent runnable without a free core (other load on the machine).\n",
  );
  console.log("| phase | run | side | tasks/get/s | p50 / p99 ms | CPU ms per call | waiting ms per call | ratio | load avg |\n|---|---|---|---|---|---|---|---|---|");
  for (const line of runTable) console.log(line);
  if (profile.length) console.log(`\n${profile.join("\n")}`);
  if (table.length) {
    console.log(`\n| what | target | measured |\n|---|---|---|`);
    for (const [what, target, measured, ok] of table) console.log(`| ${what} | ${target || "—"} | ${measured}${ok === undefined ? "" : ok ? " ✓" : " ✗"} |`);
  }
  console.log(
    `\nWhole bench: ${fmt((performance.now() - started) / 1000)} s; load average at the end ${loadAverage()}; agents: ${ONE_PRINCIPAL ? "one service account" : `${AGENTS} service accounts`}, ${CLIENT === "sdk" ? "official MCP SDK clients (Client + StreamableHTTPClientTransport)" : "raw HTTP (node:http, keep-alive)"}.`,
  );
  if (table.some((r) => r[3] === false)) process.exitCode = 1;
}

/**
 * Where a gateway call's time goes: CPU per call of each process in the throughput runs, the
 * steps of one call in this process, and a CPU profile of the console under the same load.
 */
async function profileSection(world: TWorld, pairs: Array<{ direct: TRunResult; gateway: TRunResult }>): Promise<string[]> {
  const lines: string[] = [];
  if (pairs.length) {
    const perCall = (rs: TRunResult[], key: keyof TCpu) => median(rs.map((r) => (r.cpu[key] * 1000) / r.requests));
    lines.push(
      "Profile: CPU per tasks/get in the throughput runs (median over runs, ms):",
      "",
      "| side | console (next start) | upstream | Postgres (bench database) | load generator | total |",
      "|---|---|---|---|---|---|",
    );
    for (const [side, rs] of [["direct", pairs.map((p) => p.direct)], ["gateway", pairs.map((p) => p.gateway)]] as const) {
      const parts = (["next", "upstream", "postgres", "bench"] as const).map((k) => perCall(rs, k));
      lines.push(`| ${side} | ${parts.map((p) => fmt(p, 2)).join(" | ")} | ${fmt(parts.reduce((a, b) => a + b, 0), 2)} |`);
    }
    lines.push("");
  }

  // Ceilings: the same upstream behind a do-nothing proxy, and the console's cheapest route.
  const direct = await run(world, "direct", "throughput", PROFILE_SECONDS);
  const proxy = await run(world, "proxy", "throughput", PROFILE_SECONDS);
  const gateway = await run(world, "gateway", "throughput", PROFILE_SECONDS);
  const health = await healthFlatOut(world, PROFILE_SECONDS);
  const hopMs = (r: TRunResult) => fmt((r.cpu.next * 1000) / r.requests, 2);
  lines.push(
    `Ceilings on this machine, ${AGENTS} clients flat out for ${PROFILE_SECONDS} s each, one after the other (load ${loadAverage()}):`,
    "",
    "| path | calls/s | ÷ direct | CPU ms per call in the hop |",
    "|---|---|---|---|",
    `| tasks/get direct to the upstream | ${fmt(direct.perSecond)} | 100 % | — |`,
    `| tasks/get through a do-nothing Node proxy (bench/support/bare-proxy.ts: no auth, no database) | ${fmt(proxy.perSecond)} | ${fmt((100 * proxy.perSecond) / direct.perSecond)} % | ${hopMs(proxy)} |`,
    `| tasks/get through the gateway | ${fmt(gateway.perSecond)} | ${fmt((100 * gateway.perSecond) / direct.perSecond)} % | ${hopMs(gateway)} |`,
    `| GET /api/health on the console (Next route + one \`SELECT 1\` through Prisma; no upstream) | ${fmt(health.perSecond)} | ${fmt((100 * health.perSecond) / direct.perSecond)} % | ${fmt(health.consoleMs, 2)} |`,
    "",
  );

  // Views 1 and 2: lib/gateway in this process, against a fresh upstream of its own.
  const upstream = await startUpstreamProcess(root);
  let slug: string | undefined;
  try {
    slug = await registerServer(world, upstream);
    const inProcess = await profileInProcess({ slug, apiKeys: world.agents.map((a) => a.apiKey), gatewayBaseUrl: world.next.baseUrl, calls: PROFILE_CALLS, agents: AGENTS, seconds: PROFILE_SECONDS });
    lines.push(...inProcess, "");
  } finally {
    await upstream.stop();
    await disableServer(slug);
  }

  // View 3: the same console restarted under V8's sampling profiler, one gateway run flat out.
  const dir = mkdtempSync(path.join(tmpdir(), "tether-bench-gateway-prof-"));
  try {
    await world.next.stop();
    world.next = await startNextServer(root, world.nextEnv, ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-interval", "200"]);
    await run(world, "gateway", "throughput", 2); // warm the new process
    const r = await run(world, "gateway", "throughput", PROFILE_SECONDS);
    await world.next.stop(); // the profile is written on exit
    const consoleMs = (r.cpu.next * 1000) / r.requests;
    const summary = summarizeCpuProfile(dir, r.window);
    lines.push(
      `Profile, view 3: V8 CPU profile of the gateway process (scripts/gateway-server.ts, forked by the console server) during a gateway run flat out (${fmt(r.perSecond)} tasks/get/s under the profiler, ${fmt(consoleMs, 2)} ms of console CPU per call), ` +
        `self time by origin${summary.windowed ? " in the measured window" : " over the whole process (the measured window could not be located)"}. ` +
        `${fmt(summary.socketWrites * 100)} % of the samples landed in socket writes (descheduled after waking the peer on a busy machine; strace shows microseconds per call) and are left out:`,
      "",
      "| origin | share | ms per call |",
      "|---|---|---|",
      ...summary.origins.filter((o) => o.share >= 0.002).map((o) => `| ${o.origin} | ${fmt(o.share * 100, 1)} % | ${fmt(o.share * consoleMs, 2)} |`),
      "",
      "Top functions by self time:",
      "",
      "| function — where | share |",
      "|---|---|",
      ...summary.functions.map((f) => `| ${f.name.replace(/\|/g, "\\|")} | ${fmt(f.share * 100, 1)} % |`),
    );
  } finally {
    if (process.env.BENCH_KEEP_PROFILE === "1") log(`the V8 CPU profile is kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

await main();
