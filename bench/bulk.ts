// npm run bench:bulk — a bulk revoke of 100,000 live handles (issue #5: "completes in ≤ 60 s with
// progress visible, and each one is denied at the gateway right after its own revocation").
// Real Postgres (a database of its own), the real use cases (preview, request, approval by a second
// reviewer, the leased worker in chunks of 1,000, one audit event per handle), the audit sealer
// running alongside as in the console, and the gateway's own check (authorizeHandleUse, with its
// in-memory cache warmed and invalidated through LISTEN/NOTIFY) asked about sampled handles right
// after the commit of the chunk that revoked each, and about the next chunk's handles before it.
// A second reader polls the job's progress once a second as the console page does.
// BENCH_BULK_HANDLES (default 100000), BENCH_BULK_SAMPLE (200), BENCH_BULK_SEALER=0 to run without the sealer.
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { systemActor, type TActor } from "@/lib/auth/actor";
import { approveBulkAction } from "@/lib/bulk/approve-bulk-action";
import { createBulkAction } from "@/lib/bulk/create-bulk-action";
import { loadBulkActionDto } from "@/lib/bulk/get-bulk-action";
import { previewBulkAction } from "@/lib/bulk/preview-bulk-action";
import { BULK_REVOKE_CHUNK, runBulkActions } from "@/lib/bulk/run-bulk-actions";
import { encryptSecret, keyedHash } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { createTestDatabase, dropTestDatabase } from "@/lib/db/test-database";
import { resetEnvCache } from "@/lib/env";
import { authorizeHandleUse } from "@/lib/gateway/authorize-handle-use";
import { gatewayCache, stopGatewayCache } from "@/lib/gateway/gateway-cache";
import { encryptHandleToken, handleTokenHash, newAccessor, newHandleToken, upstreamTaskContext, upstreamTaskIdHash } from "@/lib/gateway/handle-token";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { loadAverage } from "./support/process-cpu";

const HANDLES = Number(process.env.BENCH_BULK_HANDLES ?? 100_000);
const SAMPLE = Number(process.env.BENCH_BULK_SAMPLE ?? 200);
const SEALER = process.env.BENCH_BULK_SEALER !== "0";
const TARGET_S = 60;

const log = (line: string) => console.log(`[bench:bulk] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "—");
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! : NaN;
};

Object.assign(process.env, {
  TETHER_SESSION_SECRET: randomBytes(48).toString("base64url"),
  TETHER_HMAC_KEY: randomBytes(48).toString("base64"),
  TETHER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  TETHER_AUDIT_SIGNING_KEY: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  TETHER_AUDIT_VERIFY_MINUTES: "0",
  LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
});

const person = (id: string, name: string): TActor => ({ type: "user", id, role: "reviewer", name, email: null, request: { requestId: `bench-${randomUUID()}` } });

type TSample = { id: string; token: string; ordinal: number };

async function seed() {
  const db = getPrisma();
  await ensureDefaultPolicy(db, systemActor("bench", `bench-${randomUUID()}`));
  const slug = `bench-${randomUUID().slice(0, 8)}`;
  const server = await db.mcpServer.create({ data: { slug, name: `Bench ${slug}`, url: "http://127.0.0.1:9/mcp", audience: `http://bench.test/mcp/${slug}` } });
  const mk = (name: string, kind: "user" | "service", role: "reviewer" | "viewer") =>
    db.principal.create({ data: { kind, role, name, email: kind === "user" ? `${name}-${randomUUID()}@bench.test` : null } });
  const [agent, requester, approver] = await Promise.all([mk("bench-agent", "service", "viewer"), mk("bench-reviewer", "user", "reviewer"), mk("bench-approver", "user", "reviewer")]);
  const session = await db.gatewaySession.create({ data: { sessionHash: keyedHash("gateway-session", randomUUID()), principalId: agent.id, serverId: server.id } });

  // The bulk of the handles by SQL (their tokens are never presented); created one 10 ms apart.
  const batch = 25_000;
  for (let from = 0; from < HANDLES - SAMPLE; from += batch) {
    const to = Math.min(HANDLES - SAMPLE, from + batch);
    await db.$executeRaw`
      INSERT INTO handle (id, accessor, token_hash, token_enc, upstream_task_id_enc, upstream_task_id_hash, wire, server_id, principal_id, session_id,
                          audience, tool_name, policy_version, effective_ttl_ms, status, created_at, expires_at)
      SELECT gen_random_uuid(), 'hdl_' || substr(md5(random()::text || i), 1, 20), 'bench-' || md5(random()::text || i) || i, 'v1.bench', 'v1.bench',
             'bench-up-' || i, 'core_2025_11_25', ${server.id}::uuid, ${agent.id}::uuid, ${session.id}::uuid, ${server.audience}, 'long_task', 1, 3600000,
             'working', now() - make_interval(secs => i / 100.0), now() + interval '1 hour'
        FROM generate_series(${from + 1}::int, ${to}::int) AS i`;
  }
  // The sampled handles are real: a token the gateway can look up, an upstream id it can decrypt.
  const samples: Array<{ id: string; token: string }> = [];
  const rows = Array.from({ length: SAMPLE }, () => {
    const id = randomUUID();
    const token = newHandleToken();
    samples.push({ id, token });
    return {
      id,
      accessor: newAccessor(),
      tokenHash: handleTokenHash(token),
      tokenEnc: encryptHandleToken(id, token),
      upstreamTaskIdEnc: encryptSecret(`up-${id}`, upstreamTaskContext(id)),
      upstreamTaskIdHash: upstreamTaskIdHash(server.id, `up-${id}`),
      wire: "core_2025_11_25" as const,
      serverId: server.id,
      principalId: agent.id,
      sessionId: session.id,
      audience: server.audience,
      toolName: "long_task",
      policyVersion: 1,
      effectiveTtlMs: 3_600_000,
      // Spread over the whole set, so they fall into chunks from the first to the last.
      createdAt: new Date(Date.now() - Math.random() * (HANDLES / 100) * 1000),
      expiresAt: new Date(Date.now() + 3_600_000),
    };
  });
  await db.handle.createMany({ data: rows });
  return { server, agent, requester, approver, session, samples };
}

async function main(): Promise<number> {
  const started = performance.now();
  const database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  resetEnvCache();
  let stopSealer: (() => Promise<void>) | null = null;
  try {
    log(`seeding ${fmt(HANDLES)} live handles in one gateway session (load ${loadAverage()})`);
    const seeded = await seed();
    await getPrisma().$executeRawUnsafe("ANALYZE handle");
    const agentActor: TActor = { type: "service", id: seeded.agent.id, role: "viewer", name: "bench-agent", request: { requestId: "bench-gateway" } };
    const check = (token: string) => authorizeHandleUse({ actor: agentActor, serverId: seeded.server.id, sessionId: seeded.session.id, wire: "core_2025_11_25", token, operation: "tasks/get" });

    // The gateway has every sampled handle in memory, as after an agent's polls.
    for (let i = 0; i < 100 && gatewayCache()?.readEpoch() === null; i++) await sleep(50);
    if (gatewayCache()?.readEpoch() === null) throw new Error("the gateway cache is not listening");
    for (const s of seeded.samples) if (!(await check(s.token))) throw new Error("a sampled handle is refused before the bulk revoke");

    const requester = person(seeded.requester.id, "bench-reviewer");
    const selection = { type: "filter" as const, filter: `session=${seeded.session.id}` };
    let t = performance.now();
    const preview = await previewBulkAction({ actor: requester, data: { kind: "revoke", selection } });
    const previewMs = performance.now() - t;
    if (preview.count !== HANDLES) throw new Error(`preview counted ${preview.count}, not ${HANDLES}`);
    t = performance.now();
    const bulk = await createBulkAction({
      actor: requester,
      data: { kind: "revoke", selection, reason: "bench: compromised session", expectedCount: preview.count, fingerprint: preview.fingerprint, asOf: preview.asOf },
    });
    const createMs = performance.now() - t;
    t = performance.now();
    await approveBulkAction({ actor: person(seeded.approver.id, "bench-approver"), id: bulk.id });
    const approveMs = performance.now() - t;

    const ordinals = await getPrisma().bulkActionItem.findMany({ where: { bulkActionId: bulk.id, handleId: { in: seeded.samples.map((s) => s.id) } }, select: { handleId: true, ordinal: true } });
    const ordinalOf = new Map(ordinals.map((o) => [o.handleId, o.ordinal]));
    const samples: TSample[] = seeded.samples.map((s) => ({ ...s, ordinal: ordinalOf.get(s.id)! })).sort((a, b) => a.ordinal - b.ordinal);

    if (SEALER) {
      const { startAuditWorkers } = await import("@/lib/audit/start-audit-workers");
      stopSealer = startAuditWorkers();
    }

    // The console's view of the job, once a second, from its own connection.
    const progress: Array<{ at: number; processed: number }> = [];
    let watching = true;
    const runStarted = performance.now();
    const watcher = (async () => {
      while (watching) {
        const dto = await loadBulkActionDto(bulk.id);
        progress.push({ at: (performance.now() - runStarted) / 1000, processed: dto.progress.processed });
        await sleep(1000);
      }
    })();

    const chunkEnds: number[] = [];
    const deniedAfterCommitMs: number[] = [];
    let deniedRight = 0;
    let honouredBefore = 0;
    /** Time this bench spends in its own gateway checks between chunks (each refusal writes its handle.denied). */
    let checking = 0;
    const wrong: string[] = [];
    await runBulkActions({
      jobId: bulk.id,
      hooks: {
        afterCommit: async ({ ordinals: done }) => {
          const committed = performance.now();
          chunkEnds.push(committed);
          checking -= committed;
          const last = done.at(-1)!;
          for (const s of samples) {
            if (s.ordinal < done[0]! || s.ordinal > last + BULK_REVOKE_CHUNK) continue;
            const allowed = await check(s.token);
            if (s.ordinal <= last) {
              // Revoked by this very chunk: refused at the next call.
              if (allowed) wrong.push(`ordinal ${s.ordinal} honoured after its chunk committed`);
              else {
                deniedRight++;
                deniedAfterCommitMs.push(performance.now() - committed);
              }
            } else if (allowed) honouredBefore++;
            else wrong.push(`ordinal ${s.ordinal} refused before its chunk`);
          }
          checking += performance.now();
        },
      },
    });
    const runS = (performance.now() - runStarted) / 1000;
    watching = false;
    await watcher;
    const final = await loadBulkActionDto(bulk.id);
    progress.push({ at: runS, processed: final.progress.processed });

    const [counts] = await getPrisma().$queryRaw<Array<{ revoked: number; events: number }>>`
      SELECT (SELECT count(*)::int FROM handle WHERE revoke_trigger = 'bulk') AS revoked,
             (SELECT count(*)::int FROM audit_event WHERE action = 'handle.revoked' AND payload->>'bulkActionId' = ${bulk.id}) AS events`;
    let sealS = NaN;
    if (stopSealer) {
      const sealStart = performance.now();
      for (;;) {
        const [row] = await getPrisma().$queryRaw<Array<{ unsealed: number }>>`
          SELECT count(*)::int AS unsealed FROM audit_event e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_seq = e.seq)`;
        if (row!.unsealed === 0) break;
        if (performance.now() - sealStart > 120_000) break;
        await sleep(200);
      }
      sealS = (performance.now() - sealStart) / 1000 + 0;
    }

    const gaps = chunkEnds.slice(1).map((e, i) => e - chunkEnds[i]!);
    const ok = final.status === "completed" && final.progress.done === HANDLES && counts!.revoked === HANDLES && counts!.events === HANDLES && wrong.length === 0 && runS <= TARGET_S;

    console.log(`\nbulk revoke of ${fmt(HANDLES)} live handles of one gateway session, chunks of ${fmt(BULK_REVOKE_CHUNK)}, audit sealer ${SEALER ? "running" : "off"}, load ${loadAverage()}\n`);
    console.log("| what | target | measured |");
    console.log("|---|---|---|");
    console.log(`| preview (exact count, fingerprint, sample, by server and owner) | — | ${fmt(previewMs)} ms |`);
    console.log(`| request (set recomputed and frozen as ${fmt(HANDLES)} items, bulk.requested) | — | ${fmt(createMs)} ms |`);
    console.log(`| approval by a second reviewer | — | ${fmt(approveMs)} ms |`);
    console.log(`| execution: approved → completed | ≤ ${TARGET_S} s | ${fmt(runS, 1)} s ${runS <= TARGET_S ? "✓" : "✗"} (${fmt(checking / 1000, 1)} s of it the bench's own gateway checks between chunks) |`);
    console.log(`| throughput | — | ${fmt(HANDLES / runS)} handles/s (one handle.revoked each: ${fmt(counts!.events)}) |`);
    console.log(`| chunk (1,000 handles + items + events, one commit), p50 / p95 / max | — | ${fmt(percentile(gaps, 50))} / ${fmt(percentile(gaps, 95))} / ${fmt(Math.max(...gaps))} ms |`);
    console.log(
      `| sampled handles refused by the gateway's check right after their chunk's commit | all ${fmt(samples.length)} | ${fmt(deniedRight)} ${deniedRight === samples.length ? "✓" : "✗"} (commit → refusal p50 / max ${fmt(percentile(deniedAfterCommitMs, 50), 2)} / ${fmt(Math.max(...deniedAfterCommitMs), 2)} ms); ${fmt(honouredBefore)} checks of the next chunk's handles still honoured |`,
    );
    console.log(`| progress visible (the job row read once a second) | — | ${progress.map((p) => `${fmt(p.at, 0)} s: ${fmt(p.processed)}`).join(" · ")} |`);
    if (SEALER) console.log(`| audit sealer catching up after the run | — | ${fmt(sealS, 1)} s |`);
    if (wrong.length) console.log(`\nWrong: ${wrong.slice(0, 10).join("; ")}`);
    console.log(`\nWhole bench: ${fmt((performance.now() - started) / 1000)} s.`);
    return ok ? 0 : 1;
  } finally {
    if (stopSealer) await stopSealer();
    stopGatewayCache();
    await getPrisma().$disconnect();
    await dropTestDatabase(database.name);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
