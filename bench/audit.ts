// `npm run bench:audit` — issue #3's audit-trail performance targets, measured on this machine
// against a throwaway database (created here, dropped at the end, also on failure or Ctrl-C):
//   a. audited actions from 8 writers with the real sealer running (A), against the same actions
//      writing into an unchained, unprotected copy of the audit table (B) and into such a copy
//      with the audit table's indexes (C); sealing lag; no gaps;
//   b. bulk load up to BENCH_EVENTS events in all (default 1,000,000), sealer catch-up, full verification
//      with the process's memory sampled;
//   c. NDJSON export of the whole range, and the offline verifier on the exported file.
// Prints a markdown table. Exit code 1 when a target is missed. BENCH_EVENTS, BENCH_ROUNDS (3)
// and BENCH_RUN_SECONDS (8) shorten it.
//
// Working on the verifier: BENCH_ONLY=verify runs part b alone; BENCH_VERIFY_RUNS=3 verifies
// that many times and reports the median; BENCH_KEEP_DB=1 keeps the loaded database and prints
// how to reuse it (BENCH_DB=<name> and the signing key it was sealed with), which skips the
// minutes of loading and sealing on the next run.
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as TWebReadableStream } from "node:stream/web";
import { fileURLToPath } from "node:url";
import { PrismaPg } from "@prisma/adapter-pg";
import type pg from "pg";
import { exportAuditEvents } from "@/lib/audit/export-audit-events";
import { recordAuditEvent, type TAuditEventInput } from "@/lib/audit/record-audit-event";
import { sealAuditChain } from "@/lib/audit/seal-audit-chain";
import { getAuditSigningKey, type TSigningKey } from "@/lib/audit/signing-key";
import { verifyAuditChain } from "@/lib/audit/verify-audit-chain";
import type { TActor } from "@/lib/auth/actor";
import { createPool, createPrismaClient, type TPrismaClient } from "@/lib/db/client";
import { PrismaClient } from "@/lib/db/generated/client";
import { replaceDatabaseName } from "@/lib/db/connection-string";
import { getTestAdminConnectionString } from "@/lib/db/database-admin";
import { createTestDatabase, dropTestDatabase, TEST_DATABASE_PREFIX, type TTestDatabase } from "@/lib/db/test-database";
import { getEnv, resetEnvCache } from "@/lib/env";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RUN_SECONDS = Number(process.env.BENCH_RUN_SECONDS ?? 8);
const ONLY_VERIFY = process.env.BENCH_ONLY === "verify";
const VERIFY_RUNS = Math.max(1, Number(process.env.BENCH_VERIFY_RUNS ?? 1));
const KEEP_DB = process.env.BENCH_KEEP_DB === "1";
const REUSE_DB = process.env.BENCH_DB || undefined;
const WRITERS = 8;
// The writers, the sealer, and one spare: both variants get the same pool.
const POOL_MAX = WRITERS + 2;
const CHECKPOINT_EVERY = 1000;
const LOAD_CHUNK = 100_000;
const PLAIN_SCHEMA = "bench_plain";
const INDEXED_SCHEMA = "bench_indexed";

type TRow = [what: string, target: string, measured: string, ok?: boolean];
const table: TRow[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mb = (bytes: number) => `${fmt(bytes / 2 ** 20)} MB`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const log = (line: string) => console.log(`[bench:audit] ${line}`);

/** Samples this process's RSS every 100 ms: a streaming reader must stay flat whatever the table size. */
function rssSampler() {
  const start = process.memoryUsage().rss;
  let peak = start;
  let heapPeak = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
  };
  const timer = setInterval(sample, 100);
  return () => {
    clearInterval(timer);
    sample();
    return { start, peak, heapPeak };
  };
}

/** RSS start → peak, plus the JS heap's peak: it tells a leak (heap keeps climbing) from a lazy GC. */
const memoryCell = (m: ReturnType<ReturnType<typeof rssSampler>>) => `${mb(m.start)} → ${mb(m.peak)} (+${mb(m.peak - m.start)}); JS heap peak ${mb(m.heapPeak)}`;

// ---------------------------------------------------------------------------------------------
// a. Throughput
// ---------------------------------------------------------------------------------------------

type TSealer = { stop: () => Promise<void>; rounds: Array<{ at: number; head: bigint }> };

/**
 * The production sealer loop (lib/audit/start-audit-workers.ts) with its default settings,
 * rebuilt here only to timestamp each round's commit: that is when an event becomes visible
 * in the chain, which sealed_at (the round's transaction start) slightly understates.
 */
function startSealer(pool: pg.Pool, signingKey: TSigningKey): TSealer {
  const interval = getEnv().TETHER_AUDIT_SEAL_INTERVAL_MS;
  const rounds: TSealer["rounds"] = [];
  let stopped = false;
  let failure: unknown;
  const loop = (async () => {
    while (!stopped) {
      const r = await sealAuditChain(pool, { signingKey, checkpointEvery: CHECKPOINT_EVERY, checkpointSeconds: getEnv().TETHER_AUDIT_CHECKPOINT_SECONDS });
      rounds.push({ at: Date.now(), head: BigInt(r.headPosition ?? "0") });
      if (r.sealed >= 5000) continue;
      await sleep(interval);
    }
  })().catch((err: unknown) => {
    // Held until stop(): production retries, but here a failing sealer invalidates the run.
    failure = err;
  });
  return {
    rounds,
    stop: async () => {
      stopped = true;
      await loop;
      if (failure) throw failure;
    },
  };
}

function actorFor(adminId: string, writer: number, i: number): TActor {
  return {
    type: "user",
    id: adminId,
    role: "admin",
    name: "Bench admin",
    email: "bench-admin@example.test",
    request: { requestId: `bench-${writer}-${i}`, ip: `10.0.${writer}.${i % 250}`, userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36" },
  };
}

/** A few action kinds with payloads of different sizes, like a console's real mix. */
function eventFor(actor: TActor, principalId: string, i: number) {
  const target = { type: "principal", id: principalId };
  switch (i % 4) {
    case 0:
      return { actor, action: "user.role_changed", target, reason: "quarterly access review", payload: { from: "viewer", to: "reviewer" } } satisfies TAuditEventInput<"user.role_changed">;
    case 1:
      return { actor, action: "user.enabled", target, payload: {} } satisfies TAuditEventInput<"user.enabled">;
    case 2:
      return {
        actor,
        action: "policy.changed",
        target: { type: "policy", id: "default" },
        payload: { version: i, changes: { maxTtlMinutes: 60 + (i % 5) * 15, requireReason: i % 2 === 0, allowedServers: ["billing", "search", "crm"] } },
      } satisfies TAuditEventInput<"policy.changed">;
    default:
      return { actor, action: "auth.signed_in", target, payload: { provider: "credentials", sessionId: `s-${principalId.slice(0, 8)}-${i}` } } satisfies TAuditEventInput<"auth.signed_in">;
  }
}

/**
 * One action: a small domain write plus its audit event, in one interactive transaction.
 * Both variants run this very function (recordAuditEvent included); the plain variant's Prisma
 * client points at a schema whose audit_event is an unchained, unprotected copy.
 */
async function action(prisma: TPrismaClient, principalId: string, actor: TActor, i: number) {
  await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`UPDATE public.principal SET updated_at = now() WHERE id = ${principalId}::uuid`;
    // The union of event shapes is not assignable to recordAuditEvent's generic parameter.
    await recordAuditEvent(tx, eventFor(actor, principalId, i) as TAuditEventInput<"user.enabled">);
  });
}

async function runWriters(prisma: TPrismaClient, principals: string[], adminId: string, seconds: number) {
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const counts = await Promise.all(
    principals.map(async (principalId, w) => {
      let n = 0;
      while (performance.now() < deadline) await action(prisma, principalId, actorFor(adminId, w, n), n++);
      return n;
    }),
  );
  const total = counts.reduce((a, b) => a + b, 0);
  const elapsed = (performance.now() - t0) / 1000;
  return { total, perSecond: total / elapsed };
}

async function chainShape(owner: pg.Pool) {
  const { rows } = await owner.query<{ n: string; max: string | null; distinct: string }>(
    "SELECT count(*)::text AS n, max(position)::text AS max, count(DISTINCT event_seq)::text AS distinct FROM audit_chain",
  );
  return { count: Number(rows[0]!.n), max: Number(rows[0]!.max ?? 0), distinct: Number(rows[0]!.distinct) };
}

async function pendingSince(owner: pg.Pool, afterSeq: string) {
  const { rows } = await owner.query<{ n: string }>(
    "SELECT count(*)::text AS n FROM audit_event e WHERE e.seq > $1::bigint AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_seq = e.seq)",
    [afterSeq],
  );
  return Number(rows[0]!.n);
}

async function throughput(db: TTestDatabase, owner: pg.Pool, key: TSigningKey) {
  // The unprotected copies live in schemas of their own under the same table name, so that the
  // other variants run the exact same Prisma insert. Prisma casts enum values to types of the
  // client's schema, hence the copies of the two enum types. B is the copy the issue asks for
  // (defaults only); C also has the audit table's indexes, which the Audit page needs whatever
  // the sealing design, so A against C is the cost of the chain alone.
  for (const [schema, including] of [
    [PLAIN_SCHEMA, "INCLUDING DEFAULTS"],
    [INDEXED_SCHEMA, "INCLUDING DEFAULTS INCLUDING INDEXES"],
  ]) {
    await owner.query(`
      CREATE SCHEMA ${schema};
      CREATE TYPE ${schema}."ActorType" AS ENUM ('user', 'service', 'system');
      CREATE TYPE ${schema}."AuditOutcome" AS ENUM ('ok', 'denied', 'error');
      CREATE TABLE ${schema}.audit_event (LIKE public.audit_event ${including});
      ALTER TABLE ${schema}.audit_event
        ALTER COLUMN actor_type TYPE ${schema}."ActorType" USING actor_type::text::${schema}."ActorType",
        ALTER COLUMN outcome TYPE ${schema}."AuditOutcome" USING outcome::text::${schema}."AuditOutcome";
      GRANT USAGE ON SCHEMA ${schema} TO tether_app;
      GRANT SELECT, INSERT ON ${schema}.audit_event TO tether_app;
    `);
  }
  const { rows: made } = await owner.query<{ id: string }>(
    `INSERT INTO principal (id, kind, role, email, name, updated_at)
     SELECT gen_random_uuid(), 'user', 'viewer', 'bench-writer-' || w || '@example.test', 'Bench writer ' || w, now()
       FROM generate_series(0, ${WRITERS}) AS w RETURNING id`,
  );
  const [admin, ...principals] = made.map((r) => r.id) as [string, ...string[]];

  const pool = createPool(db.url, { role: "tether_app", max: POOL_MAX });
  const audited = createPrismaClient(pool);
  const plain = new PrismaClient({ adapter: new PrismaPg(pool, { schema: PLAIN_SCHEMA }) });
  const indexed = new PrismaClient({ adapter: new PrismaPg(pool, { schema: INDEXED_SCHEMA }) });
  try {
    const runAudited = async (seconds: number) => {
      const { rows } = await owner.query<{ seq: string }>("SELECT coalesce(max(seq), 0)::text AS seq FROM audit_event");
      const afterSeq = rows[0]!.seq;
      const sealer = startSealer(pool, key);
      let result: Awaited<ReturnType<typeof runWriters>>;
      let catchUp: number;
      try {
        result = await runWriters(audited, principals, admin, seconds);
        const end = performance.now();
        while ((await pendingSince(owner, afterSeq)) > 0) {
          if (performance.now() - end > 5000) throw new Error("events inserted during an audited run were still unsealed 5 s after it ended");
          await sleep(20);
        }
        catchUp = (performance.now() - end) / 1000;
      } finally {
        await sealer.stop();
      }
      return { ...result, afterSeq, catchUp, rounds: sealer.rounds };
    };

    // Warm-up (JIT, Prisma's query plans, the table's first pages); not counted.
    await runAudited(2);
    await runWriters(plain, principals, admin, 2);
    await runWriters(indexed, principals, admin, 2);

    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    const ratios: number[] = [];
    const ratiosC: number[] = [];
    const lagSealedAt: number[] = [];
    const lagVisible: number[] = [];
    let worstCatchUp = 0;
    let auditedEvents = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      // Each round runs A, B and C back to back, rotated so that none always runs first.
      let ra: Awaited<ReturnType<typeof runAudited>> | undefined;
      let rb: Awaited<ReturnType<typeof runWriters>> | undefined;
      let rc: Awaited<ReturnType<typeof runWriters>> | undefined;
      const variants = [
        async () => (ra = await runAudited(RUN_SECONDS)),
        async () => (rb = await runWriters(plain, principals, admin, RUN_SECONDS)),
        async () => (rc = await runWriters(indexed, principals, admin, RUN_SECONDS)),
      ];
      for (let v = 0; v < variants.length; v++) await variants[(v + round - 1) % variants.length]!();
      if (!ra || !rb || !rc) throw new Error("a variant did not run");
      a.push(ra.perSecond);
      b.push(rb.perSecond);
      c.push(rc.perSecond);
      ratios.push(ra.perSecond / rb.perSecond);
      ratiosC.push(ra.perSecond / rc.perSecond);
      worstCatchUp = Math.max(worstCatchUp, ra.catchUp);
      auditedEvents += ra.total;

      const { rows: sealed } = await owner.query<{ position: string; occurred: number; lag: number }>(
        `SELECT c.position::text AS position, extract(epoch FROM e.occurred_at)::float8 * 1000 AS occurred,
                extract(epoch FROM c.sealed_at - e.occurred_at)::float8 * 1000 AS lag
           FROM audit_chain c JOIN audit_event e ON e.seq = c.event_seq
          WHERE e.seq > $1::bigint ORDER BY c.position`,
        [ra.afterSeq],
      );
      if (sealed.length !== ra.total) throw new Error(`run A${round}: ${ra.total} actions succeeded but ${sealed.length} of their events are in the chain`);
      // occurred_at is stamped by Prisma in this process (@default(now()) is client-side), so it
      // and the round timestamps share one clock. Both cursors only move forward: chain
      // positions and round heads both increase.
      let r = 0;
      for (const row of sealed) {
        lagSealedAt.push(row.lag);
        const p = BigInt(row.position);
        while (r < ra.rounds.length && ra.rounds[r]!.head < p) r++;
        const sealing = ra.rounds[r];
        if (!sealing) throw new Error(`no sealing round reported position ${row.position}`);
        lagVisible.push(sealing.at - row.occurred);
      }
      const shape = await chainShape(owner);
      if (shape.count !== shape.max || shape.distinct !== shape.count) throw new Error(`the chain has gaps: ${shape.count} links, max position ${shape.max}, ${shape.distinct} distinct events`);
      log(`round ${round}: A ${fmt(ra.perSecond)}/s (${fmt(ra.total)} actions, sealed ${fmt(ra.catchUp, 2)} s after the end), B ${fmt(rb.perSecond)}/s → ${fmt((100 * ra.perSecond) / rb.perSecond, 1)} %, C ${fmt(rc.perSecond)}/s → ${fmt((100 * ra.perSecond) / rc.perSecond, 1)} %`);
    }
    lagSealedAt.sort((x, y) => x - y);
    lagVisible.sort((x, y) => x - y);
    const shape = await chainShape(owner);
    const ratio = median(ratios);
    const maxLag = Math.max(lagSealedAt.at(-1)!, lagVisible.at(-1)!);
    table.push(
      [`audited actions (A), ${WRITERS} writers, sealer running; median of ${ROUNDS} × ${RUN_SECONDS} s`, "", `${fmt(median(a))}/s (runs: ${a.map((x) => fmt(x)).join(", ")})`],
      [`plain inserts (B), unchained unprotected copy, same transaction`, "", `${fmt(median(b))}/s (runs: ${b.map((x) => fmt(x)).join(", ")})`],
      ["A / B, median of the alternating rounds", "≥ 70 %", `${fmt(100 * ratio, 1)} % (rounds: ${ratios.map((x) => `${fmt(100 * x, 1)} %`).join(", ")})`, ratio >= 0.7],
      [`inserts into a copy with the audit table's indexes (C), same transaction`, "", `${fmt(median(c))}/s (runs: ${c.map((x) => fmt(x)).join(", ")})`],
      ["A / C: the chain's own cost, indexes aside", "", `${fmt(100 * median(ratiosC), 1)} % (rounds: ${ratiosC.map((x) => `${fmt(100 * x, 1)} %`).join(", ")})`],
      [`sealing lag (sealed_at − occurred_at), ${fmt(auditedEvents)} events of the A runs: p99 / max`, "none > 2 s", `${fmt(percentile(lagSealedAt, 99))} ms / ${fmt(lagSealedAt.at(-1)!)} ms`, lagSealedAt.at(-1)! <= 2000],
      ["lag until the sealing round committed: p99 / max", "none > 2 s", `${fmt(percentile(lagVisible, 99))} ms / ${fmt(lagVisible.at(-1)!)} ms`, maxLag <= 2000],
      ["chain gap-free after the runs (links = max position, one per event)", "yes", `yes: ${fmt(shape.count)} links, max position ${fmt(shape.max)}`, true],
      ["every event of a run sealed after the run ended, worst run", "≤ 5 s", `${fmt(worstCatchUp, 2)} s`, worstCatchUp <= 5],
    );
  } finally {
    await audited.$disconnect().catch(() => undefined);
    await plain.$disconnect().catch(() => undefined);
    await indexed.$disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// b. Bulk load, sealer catch-up, verification
// ---------------------------------------------------------------------------------------------

// Eight action kinds with their real payload shapes; actors, targets, addresses and times vary
// per row, so hashing and JSON work are representative rather than one repeated row.
const BULK_INSERT = `
INSERT INTO audit_event (id, occurred_at, actor_type, actor_id, actor_role, action, target_type, target_id, outcome, reason, request_id, ip, user_agent, payload)
SELECT gen_random_uuid(),
       $3::timestamptz + make_interval(secs => i * 0.002),
       (CASE k WHEN 1 THEN 'system' WHEN 5 THEN 'service' ELSE 'user' END)::"ActorType",
       CASE k WHEN 1 THEN NULL ELSE md5('actor' || (i % 97))::uuid::text END,
       CASE k WHEN 1 THEN NULL WHEN 5 THEN 'reviewer' ELSE (ARRAY['admin', 'reviewer', 'support', 'auditor'])[1 + i % 4] END,
       (ARRAY['auth.signed_in', 'auth.sign_in_failed', 'user.role_changed', 'policy.changed', 'server.registered', 'api_key.created', 'audit.searched', 'user.enabled'])[1 + k],
       CASE k WHEN 3 THEN 'policy' WHEN 4 THEN 'server' WHEN 6 THEN NULL ELSE 'principal' END,
       CASE k WHEN 3 THEN 'default' WHEN 4 THEN 'srv-' || (i % 31) WHEN 6 THEN NULL ELSE md5('target' || (i % 1009))::uuid::text END,
       (CASE WHEN k = 1 THEN 'denied' WHEN i % 211 = 0 THEN 'error' ELSE 'ok' END)::"AuditOutcome",
       CASE k WHEN 1 THEN 'bad credentials' WHEN 2 THEN 'access review ' || (i % 12) ELSE NULL END,
       'req-' || md5(i::text),
       CASE WHEN k = 5 THEN NULL ELSE '10.' || (i % 250) || '.' || (i / 250 % 250) || '.' || (i % 7 + 1) END,
       CASE WHEN k = 5 THEN 'tether-cli/1.4.' || (i % 9) ELSE 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.' || (i % 3) || ' Safari/605.1.15' END,
       CASE k
         WHEN 0 THEN jsonb_build_object('provider', CASE WHEN i % 3 = 0 THEN 'oidc' ELSE 'credentials' END, 'sessionId', md5('s' || i)::uuid::text)
         WHEN 1 THEN jsonb_build_object('provider', 'credentials', 'emailHash', encode(sha256(('u' || (i % 500))::bytea), 'hex'), 'cause', 'bad_credentials')
         WHEN 2 THEN jsonb_build_object('from', 'viewer', 'to', (ARRAY['reviewer', 'support', 'auditor'])[1 + i % 3])
         WHEN 3 THEN jsonb_build_object('version', i / 8, 'changes', jsonb_build_object('maxTtlMinutes', 15 * (1 + i % 8), 'requireReason', i % 2 = 0, 'allowedServers', jsonb_build_array('billing', 'search', 'srv-' || (i % 31))))
         WHEN 4 THEN jsonb_build_object('slug', 'srv-' || (i % 31), 'url', 'https://mcp-' || (i % 31) || '.internal.example/mcp', 'audience', 'tether')
         WHEN 5 THEN jsonb_build_object('prefix', 'tk_' || left(md5(i::text), 8), 'principalId', md5('target' || (i % 1009))::uuid::text, 'expiresAt', NULL)
         WHEN 6 THEN jsonb_build_object('filter', jsonb_build_object('action', jsonb_build_array('handle.issued', 'handle.revoked'), 'outcome', jsonb_build_array('denied'), 'limit', 50), 'resultCount', i % 51)
         ELSE '{}'::jsonb
       END
  FROM generate_series($1::bigint, $2::bigint) AS g(i), LATERAL (SELECT (i % 8)::int AS k) AS x`;

async function bulkLoad(owner: pg.Pool) {
  const { rows } = await owner.query<{ n: string }>("SELECT count(*)::text AS n FROM audit_event");
  const existing = Number(rows[0]!.n);
  const toInsert = Math.max(0, EVENTS - existing);
  const t0 = performance.now();
  // Times in the recent past, ~2 ms apart, as if the trail had been written over the last hours.
  const startAt = new Date(Date.now() - toInsert * 2 - 60_000).toISOString();
  // One INSERT … SELECT runs on one core: two loaders use both.
  const chunks: Array<[number, number]> = [];
  for (let from = 1; from <= toInsert; from += LOAD_CHUNK) chunks.push([from, Math.min(toInsert, from + LOAD_CHUNK - 1)]);
  await Promise.all(
    [0, 1].map(async () => {
      for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) await owner.query(BULK_INSERT, [chunk[0], chunk[1], startAt]);
    }),
  );
  // A trail written over months has been vacuumed and analysed by autovacuum; a table loaded a
  // second ago has not, and its first reader would pay the hint-bit writes instead.
  await owner.query("VACUUM (ANALYZE) audit_event");
  const seconds = (performance.now() - t0) / 1000;
  log(`bulk-loaded ${fmt(toInsert)} events in ${fmt(seconds, 1)} s (${fmt(existing)} already there)`);
  return { toInsert, seconds };
}

async function catchUpAndVerify(db: TTestDatabase, owner: pg.Pool, key: TSigningKey) {
  const pool = createPool(db.url, { role: "tether_app", max: 2 });
  try {
    const before = await chainShape(owner);
    const t0 = performance.now();
    let sealed = 0;
    for (;;) {
      const r = await sealAuditChain(pool, { signingKey: key, checkpointEvery: CHECKPOINT_EVERY, checkpointSeconds: getEnv().TETHER_AUDIT_CHECKPOINT_SECONDS });
      sealed += r.sealed;
      if (r.sealed === 0) break;
    }
    const sealSeconds = (performance.now() - t0) / 1000;
    log(`sealer caught up with ${fmt(sealed)} events in ${fmt(sealSeconds, 1)} s (chain had ${fmt(before.count)})`);
    await owner.query("VACUUM (ANALYZE) audit_chain, audit_checkpoint");
    const shape = await chainShape(owner);
    if (shape.count !== shape.max) throw new Error(`the chain has gaps after catch-up: ${shape.count} links, max position ${shape.max}`);

    // Verification only reads, so repeated runs see the same table; the median tames the noise
    // of a shared machine, and the worst memory growth is the one reported.
    const rates: number[] = [];
    const seconds: number[] = [];
    let worst: ReturnType<ReturnType<typeof rssSampler>> | undefined;
    let result: Awaited<ReturnType<typeof verifyAuditChain>> | undefined;
    for (let run = 1; run <= VERIFY_RUNS; run++) {
      const stopRss = rssSampler();
      const t1 = performance.now();
      result = await verifyAuditChain(pool, { publicKeys: [key.publicKeyPem] });
      const verifySeconds = (performance.now() - t1) / 1000;
      const rss = stopRss();
      if (!result.ok) throw new Error(`verification failed: ${JSON.stringify(result.failure)}`);
      rates.push(result.events / verifySeconds);
      seconds.push(verifySeconds);
      if (!worst || rss.peak - rss.start > worst.peak - worst.start) worst = rss;
      log(`verified ${fmt(result.events)} events and ${fmt(result.checkpoints)} checkpoints in ${fmt(verifySeconds, 1)} s (${fmt(result.events / verifySeconds)} events/s)`);
    }
    const rate = median(rates);
    const runs = VERIFY_RUNS > 1 ? `, median of ${VERIFY_RUNS}: ${rates.map((r) => fmt(r)).join(" / ")}` : "";
    table.push(
      [`sealer catch-up after a bulk load of ${fmt(sealed)} events`, "", `${fmt(sealed / sealSeconds)} events/s (${fmt(sealSeconds, 1)} s)`],
      [`verification of ${fmt(result!.events)} events, ${fmt(result!.checkpoints)} signed checkpoints`, "≥ 50,000 events/s", `${fmt(rate)} events/s (${fmt(median(seconds), 1)} s${runs})`, rate >= 50_000],
      ["verification: process RSS start → peak", "flat (< +150 MB)", memoryCell(worst!), worst!.peak - worst!.start < 150 * 2 ** 20],
    );
    return result!.events;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// c. Export and the offline verifier
// ---------------------------------------------------------------------------------------------

async function exportBundle(): Promise<Readable> {
  const auditor: TActor = { type: "user", id: "00000000-0000-4000-8000-000000000001", role: "auditor", name: "Bench auditor", email: null, request: { requestId: "bench-export" } };
  const { stream } = await exportAuditEvents({ actor: auditor, query: { format: "ndjson" } });
  return Readable.fromWeb(stream as TWebReadableStream<Uint8Array>);
}

/** Peak VmRSS of a child process, sampled from /proc every 100 ms while it runs. */
function runVerifier(args: string[]) {
  return new Promise<{ code: number | null; out: string; seconds: number; peakRss: number }>((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [path.join(root, "bin/tether-audit-verify.mjs"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let peakRss = 0;
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setInterval(() => {
      try {
        const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0);
        peakRss = Math.max(peakRss, kb * 1024);
      } catch {
        /* exited between samples */
      }
    }, 100);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearInterval(timer);
      resolve({ code, out, seconds: (performance.now() - t0) / 1000, peakRss });
    });
  });
}

async function exportAndOfflineVerify(db: TTestDatabase, key: TSigningKey, events: number, dir: string) {
  const pool = createPool(db.url, { role: "tether_app", max: 4 });
  const prisma = createPrismaClient(pool);
  // exportAuditEvents uses the process-wide pool and client (lib/db/client.ts).
  const g = globalThis as { tetherPool?: pg.Pool; tetherPrisma?: TPrismaClient };
  g.tetherPool = pool;
  g.tetherPrisma = prisma;
  try {
    const file = path.join(dir, "bundle.ndjson");
    const keyFile = path.join(dir, "key.pem");
    writeFileSync(keyFile, key.publicKeyPem);
    // Page-cache writes cost next to nothing, so the file is the null sink and the verifier's input at once.
    const stopRss = rssSampler();
    const t0 = performance.now();
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(await exportBundle(), counter, createWriteStream(file));
    const seconds = (performance.now() - t0) / 1000;
    const rss = stopRss();
    const rate = events / seconds;
    log(`exported ${fmt(events)} events (${mb(bytes)}) in ${fmt(seconds, 1)} s`);

    const offline = await runVerifier([file, "--public-key", keyFile]);
    const verified = Number(/OK: (\d+) events/.exec(offline.out)?.[1] ?? NaN);
    if (offline.code !== 0 || verified !== events) throw new Error(`the offline verifier rejected the bundle (exit ${offline.code}): ${offline.out.trim()}`);
    log(`offline verifier: ${offline.out.trim().split("\n")[0]} (${fmt(offline.seconds, 1)} s)`);
    table.push(
      [`export, NDJSON bundle of the whole range (${fmt(events)} events, ${mb(bytes)}), streamed into a temp file`, "≥ 20,000 events/s", `${fmt(rate)} events/s (${fmt(seconds, 1)} s)`, rate >= 20_000],
      ["export: process RSS start → peak", "flat (< +150 MB)", memoryCell(rss), rss.peak - rss.start < 150 * 2 ** 20],
      ["offline verifier (bin/tether-audit-verify.mjs) on that file, whole process", "", `${fmt(events / offline.seconds)} events/s (${fmt(offline.seconds, 1)} s), peak RSS ${mb(offline.peakRss)}`],
    );
  } finally {
    delete g.tetherPool;
    delete g.tetherPrisma;
    await prisma.$disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  if (REUSE_DB && !ONLY_VERIFY) throw new Error("BENCH_DB reuses a loaded database for BENCH_ONLY=verify only");
  if (REUSE_DB && !process.env.TETHER_AUDIT_SIGNING_KEY) throw new Error("BENCH_DB needs TETHER_AUDIT_SIGNING_KEY, the key its chain was sealed with");
  if (!REUSE_DB) process.env.TETHER_AUDIT_SIGNING_KEY = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  resetEnvCache();
  const key = getAuditSigningKey();
  const dir = mkdtempSync(path.join(tmpdir(), "tether-bench-audit-"));
  let db: TTestDatabase | undefined;
  let owner: pg.Pool | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      await owner?.end().catch(() => undefined);
      if (db && KEEP_DB) {
        const keyFile = path.join(tmpdir(), `${db.name}.key.pem`);
        writeFileSync(keyFile, process.env.TETHER_AUDIT_SIGNING_KEY!, { mode: 0o600 });
        log(`kept the database; reuse it with BENCH_ONLY=verify BENCH_DB=${db.name} TETHER_AUDIT_SIGNING_KEY="$(cat ${keyFile})"`);
      } else if (db) await dropTestDatabase(db.name).catch((err: Error) => console.error(`could not drop ${db!.name}: ${err.message}`));
      rmSync(dir, { recursive: true, force: true });
    })());
  // Ctrl-C must not leave a multi-gigabyte database behind.
  process.once("SIGINT", () => {
    console.error("\ninterrupted; dropping the bench database…");
    void cleanup().finally(() => process.exit(130));
  });

  const started = performance.now();
  try {
    if (REUSE_DB && !REUSE_DB.startsWith(TEST_DATABASE_PREFIX)) throw new Error(`BENCH_DB must name a ${TEST_DATABASE_PREFIX}* database`);
    db = REUSE_DB ? { name: REUSE_DB, url: replaceDatabaseName(getTestAdminConnectionString(), REUSE_DB) } : await createTestDatabase();
    owner = createPool(db.url, { max: 3 });
    log(`database ${db.name}; ${WRITERS} writers, pool of ${POOL_MAX}, ${ROUNDS} rounds of A/B/C runs of ${RUN_SECONDS} s, ${fmt(EVENTS)} events for verification`);
    if (!ONLY_VERIFY) await throughput(db, owner, key);
    await bulkLoad(owner);
    const events = await catchUpAndVerify(db, owner, key);
    if (!ONLY_VERIFY) await exportAndOfflineVerify(db, key, events, dir);
  } finally {
    await cleanup();
  }

  console.log(`\n| what | target | measured |\n|---|---|---|`);
  for (const [what, target, measured, ok] of table) console.log(`| ${what} | ${target || "—"} | ${measured}${ok === undefined ? "" : ok ? " ✓" : " ✗"} |`);
  console.log(`\nWhole bench: ${fmt((performance.now() - started) / 1000)} s.`);
  if (table.some((r) => r[3] === false)) process.exitCode = 1;
}

await main();
