// npm run bench:inventory — the reviewer console's read path at scale (issue 5): with 1,000,000
// handles and 10,000,000 audit events in a real Postgres, the server time of
//   - one inventory page for each built-in preset and for owner / server / status filters, at
//     page 1 and at a deep cursor (60 % into the filtered set): target p95 ≤ 150 ms;
//   - the facet counts (status, server, owner) of the same filters: target ≤ 300 ms;
//   - the handle page (the handle with its binding, and its timeline's first page): ≤ 100 ms.
// Server time is the use cases the page and the API call (lib/handles/list-handles.ts,
// count-handle-facets.ts, get-handle.ts, list-handle-timeline.ts), measured in this process
// against the database; React rendering of the 50-row page is not included.
// Env: BENCH_HANDLES (1,000,000), BENCH_EVENTS (10,000,000), BENCH_SAMPLES (20),
// BENCH_DB=<name> to reuse a loaded database, BENCH_KEEP_DB=1 to keep it.
import { randomBytes } from "node:crypto";
import type pg from "pg";
import type { TActor } from "@/lib/auth/actor";
import { createPool } from "@/lib/db/client";
import { replaceDatabaseName } from "@/lib/db/connection-string";
import { getTestAdminConnectionString } from "@/lib/db/database-admin";
import { createTestDatabase, dropTestDatabase, type TTestDatabase } from "@/lib/db/test-database";
import { resetEnvCache } from "@/lib/env";
import { countHandleFacets } from "@/lib/handles/count-handle-facets";
import { getHandle } from "@/lib/handles/get-handle";
import { encodeHandleCursor } from "@/lib/handles/handle-filter-schema";
import { listHandleTimeline } from "@/lib/handles/list-handle-timeline";
import { listHandles } from "@/lib/handles/list-handles";

const HANDLES = Number(process.env.BENCH_HANDLES ?? 1_000_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 20);
const REUSE_DB = process.env.BENCH_DB || undefined;
const KEEP_DB = process.env.BENCH_KEEP_DB === "1";
const PRINCIPALS = 1_000;
const SERVERS = 20;
const SESSIONS = 20_000;
const CHUNK = 250_000;

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const log = (line: string) => process.stderr.write(`[bench:inventory] ${line}\n`);

const B64 = (bytes: string) => `rtrim(translate(encode(${bytes}, 'base64'), '+/', '-_'), '=')`;
const RANDOM_32 = "sha256(uuid_send(gen_random_uuid()))";
const ENVELOPE = (ctBytes: number) =>
  `'v1.' || ${B64(`substring(${RANDOM_32} from 1 for 12)`)} || '.' || ${B64(`substring(${RANDOM_32} from 1 for 16)`)} || '.' || ${B64(`substring(${RANDOM_32} || ${RANDOM_32} from 1 for ${ctBytes})`)}`;

/** The world: servers (two disabled or removed, for the orphan preset), agents (some disabled), sessions (a third ended), policies 1–3. */
async function loadWorld(owner: pg.Pool): Promise<void> {
  await owner.query(
    `INSERT INTO handle_policy (version, max_ttl_ms, default_ttl_ms, max_live_handles_per_principal, reason, min_valid_version)
     SELECT v, 3600000, 900000, 1000000, 'bench policy ' || v, 1 FROM generate_series(1, 3) v`,
  );
  await owner.query(
    `INSERT INTO mcp_server (id, slug, name, url, audience, enabled, removed_at, updated_at)
     SELECT md5('inv-srv' || g)::uuid, 'srv-' || g, 'Server ' || g, 'http://127.0.0.1:9/mcp', 'https://tether.example/mcp/srv-' || g,
            g <> 1, CASE WHEN g = 2 THEN now() - interval '1 day' END, now()
       FROM generate_series(1, ${SERVERS}) g`,
  );
  await owner.query(
    `INSERT INTO principal (id, kind, role, name, disabled_at, created_at, updated_at)
     SELECT md5('inv-p' || g)::uuid, 'service', 'viewer', 'agent ' || g, CASE WHEN g % 50 = 0 THEN now() - interval '1 day' END, now() - interval '60 days', now()
       FROM generate_series(1, ${PRINCIPALS}) g`,
  );
  await owner.query(
    `INSERT INTO api_key (id, principal_id, name, prefix, hash, created_at, expires_at)
     SELECT md5('inv-k' || g)::uuid, md5('inv-p' || g)::uuid, 'key', 'tth_' || substr(md5('inv-prefix' || g), 1, 8), ${B64(RANDOM_32)}, now() - interval '60 days', now() + interval '30 days'
       FROM generate_series(1, ${PRINCIPALS}) g`,
  );
  await owner.query(
    `INSERT INTO gateway_session (id, session_hash, principal_id, server_id, api_key_id, upstream_session_enc, protocol_version, created_at, last_seen_at, ended_at, end_reason)
     SELECT md5('inv-s' || g)::uuid, ${B64(RANDOM_32)}, md5('inv-p' || (1 + g % ${PRINCIPALS}))::uuid, md5('inv-srv' || (1 + g % ${SERVERS}))::uuid,
            md5('inv-k' || (1 + g % ${PRINCIPALS}))::uuid, ${ENVELOPE(36)}, '2025-11-25', now() - interval '30 days', now() - interval '1 minute',
            CASE WHEN g % 3 = 0 THEN now() - interval '1 hour' END, CASE WHEN g % 3 = 0 THEN 'client_ended' END
       FROM generate_series(1, ${SESSIONS}) g`,
  );
}

/**
 * Handles over the last 30 days: most finished and expired long ago (TTL one hour), the newest
 * 2 % still live, some revoked; statuses, tools, policy versions and owners vary per row.
 */
const HANDLE_INSERT = `
INSERT INTO handle (id, accessor, token_hash, token_enc, upstream_task_id_enc, upstream_task_id_hash, wire, server_id, principal_id, session_id, api_key_id,
                    audience, tool_name, policy_version, requested_ttl_ms, upstream_ttl_ms, effective_ttl_ms, status, status_message, poll_interval_ms,
                    created_at, expires_at, last_updated_at, last_used_at, use_count, revoked_at, revoke_reason, revoke_trigger, cancel_state, expired_at)
SELECT md5('inv-h' || g)::uuid, 'hdl_' || substr(md5('inv-a' || g), 1, 20), ${B64(RANDOM_32)}, ${ENVELOPE(47)}, ${ENVELOPE(36)}, ${B64(RANDOM_32)},
       'core_2025_11_25', md5('inv-srv' || (1 + s % ${SERVERS}))::uuid, md5('inv-p' || (1 + s % ${PRINCIPALS}))::uuid, md5('inv-s' || s)::uuid, md5('inv-k' || (1 + s % ${PRINCIPALS}))::uuid,
       'https://tether.example/mcp/srv-' || (1 + s % ${SERVERS}), (ARRAY['long_task', 'queued_task', 'input_task', 'failing_task', 'report', 'export'])[1 + g % 6],
       1 + g % 3, 3600000, 3600000, 3600000,
       (CASE WHEN live THEN (ARRAY['working', 'working', 'working', 'input_required'])[1 + g % 4]
             ELSE (ARRAY['completed', 'completed', 'completed', 'failed', 'cancelled', 'expired_upstream'])[1 + g % 6] END)::"TaskStatus",
       CASE WHEN g % 4 = 0 THEN 'step ' || (g % 10) || '/10' END, 1000,
       created, created + interval '1 hour', created + interval '5 minutes', created + make_interval(secs => g % 600), g % 500,
       CASE WHEN g % 17 = 0 THEN created + interval '10 minutes' END, CASE WHEN g % 17 = 0 THEN 'bench' END, CASE WHEN g % 17 = 0 THEN 'manual' END,
       (CASE WHEN g % 97 = 0 THEN 'confirmed' ELSE 'none' END)::"CancelState",
       CASE WHEN NOT live AND g % 17 <> 0 THEN created + interval '1 hour' END
  FROM generate_series($1::bigint, $2::bigint) AS t(g),
       LATERAL (SELECT 1 + (g * 7919) % ${SESSIONS} AS s,
                       g > ${HANDLES} * 0.98 AS live,
                       CASE WHEN g > ${HANDLES} * 0.98 THEN now() - make_interval(secs => (${HANDLES} - g) * 0.15)
                            ELSE now() - interval '30 days' + make_interval(secs => g * (2592000.0 / ${HANDLES})) END AS created) x`;

/**
 * Audit events: per handle its issue, one or two status changes and the occasional denial or
 * revocation (about 3 per handle), the rest the console's own traffic (sign-ins, searches).
 */
const EVENT_INSERT = `
INSERT INTO audit_event (id, occurred_at, actor_type, actor_id, actor_role, action, target_type, target_id, outcome, request_id, payload)
SELECT gen_random_uuid(), now() - interval '30 days' + make_interval(secs => i * (2592000.0 / ${EVENTS})),
       (CASE WHEN k IN (1, 2) THEN 'system' WHEN k IN (0, 3) THEN 'service' ELSE 'user' END)::"ActorType",
       CASE WHEN k IN (1, 2) THEN NULL ELSE md5('inv-p' || (1 + i % ${PRINCIPALS}))::uuid::text END,
       CASE WHEN k IN (1, 2) THEN NULL ELSE 'viewer' END,
       (ARRAY['handle.issued', 'handle.status_changed', 'handle.status_changed', 'handle.denied', 'auth.signed_in', 'audit.searched', 'handle.revoked', 'gateway.session_started', 'auth.signed_in', 'audit.searched'])[1 + k],
       CASE WHEN k <= 3 OR k = 6 THEN 'handle' ELSE 'principal' END,
       CASE WHEN k <= 3 OR k = 6 THEN md5('inv-h' || h)::uuid::text ELSE md5('inv-p' || (1 + i % ${PRINCIPALS}))::uuid::text END,
       (CASE WHEN k = 3 THEN 'denied' ELSE 'ok' END)::"AuditOutcome", 'req-' || md5(i::text),
       CASE k WHEN 0 THEN jsonb_build_object('accessor', 'hdl_' || substr(md5('inv-a' || h), 1, 20), 'tool', 'long_task')
              WHEN 1 THEN jsonb_build_object('accessor', 'hdl_' || substr(md5('inv-a' || h), 1, 20), 'from', 'working', 'to', 'completed', 'statusMessage', NULL, 'source', 'poller')
              WHEN 3 THEN jsonb_build_object('accessor', 'hdl_' || substr(md5('inv-a' || h), 1, 20), 'operation', 'tasks/get', 'cause', 'principal_mismatch')
              ELSE '{}'::jsonb END
  FROM generate_series($1::bigint, $2::bigint) AS t(i),
       LATERAL (SELECT (i % 10)::int AS k, 1 + (i / 10 * 3 + i % 3) % ${HANDLES} AS h) x`;

async function chunked(owner: pg.Pool, sql: string, total: number, what: string): Promise<void> {
  const t0 = performance.now();
  const chunks: Array<[number, number]> = [];
  for (let from = 1; from <= total; from += CHUNK) chunks.push([from, Math.min(total, from + CHUNK - 1)]);
  // One INSERT … SELECT runs on one core: two loaders use both.
  await Promise.all(
    [0, 1].map(async () => {
      for (let c = chunks.shift(); c; c = chunks.shift()) await owner.query(sql, c);
    }),
  );
  log(`loaded ${fmt(total)} ${what} in ${fmt((performance.now() - t0) / 1000, 1)} s`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function time(fn: () => Promise<unknown>): Promise<{ p50: number; p95: number; max: number }> {
  await fn(); // warm: plan cache, first pages
  const ms: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), max: ms[ms.length - 1]! };
}

type TRow = { what: string; target: number; p50: number; p95: number; rows?: string };

async function main(): Promise<void> {
  const t0 = performance.now();
  let db: TTestDatabase | null = null;
  let owner: pg.Pool | null = null;
  try {
    db = REUSE_DB ? { name: REUSE_DB, url: replaceDatabaseName(getTestAdminConnectionString(), REUSE_DB) } : await createTestDatabase();
    Object.assign(process.env, {
      DATABASE_URL: db.url,
      TETHER_HMAC_KEY: process.env.TETHER_HMAC_KEY ?? randomBytes(32).toString("base64url"),
      TETHER_ENCRYPTION_KEY: process.env.TETHER_ENCRYPTION_KEY ?? randomBytes(32).toString("base64"),
      TETHER_SESSION_SECRET: process.env.TETHER_SESSION_SECRET ?? randomBytes(32).toString("base64url"),
      TETHER_WORKERS: "false",
      LOG_LEVEL: "warn",
    });
    resetEnvCache();
    owner = createPool(db.url, { max: 3 });
    if (!REUSE_DB) {
      log(`database ${db.name}: loading ${fmt(HANDLES)} handles and ${fmt(EVENTS)} audit events …`);
      await loadWorld(owner);
      await chunked(owner, HANDLE_INSERT, HANDLES, "handles");
      await chunked(owner, EVENT_INSERT, EVENTS, "audit events");
      const v0 = performance.now();
      // A table that grew over a month has been vacuumed and analysed by autovacuum.
      await owner.query("VACUUM (ANALYZE) handle, audit_event, principal, mcp_server, gateway_session, api_key");
      log(`vacuumed and analysed in ${fmt((performance.now() - v0) / 1000, 1)} s`);
    }
    const { rows: counts } = await owner.query<{ handles: string; events: string; live: string }>(
      `SELECT (SELECT count(*) FROM handle)::text AS handles, (SELECT count(*) FROM audit_event)::text AS events,
              (SELECT count(*) FROM handle WHERE revoked_at IS NULL AND expires_at > now())::text AS live`,
    );
    log(`${fmt(Number(counts[0]!.handles))} handles (${fmt(Number(counts[0]!.live))} live), ${fmt(Number(counts[0]!.events))} audit events`);

    const { rows: reviewerRows } = await owner.query<{ id: string }>(
      `INSERT INTO principal (id, kind, role, name, email, updated_at) VALUES (gen_random_uuid(), 'user', 'reviewer', 'Bench reviewer', 'bench-reviewer-' || gen_random_uuid() || '@example.test', now()) RETURNING id`,
    );
    const actor: TActor = { type: "user", id: reviewerRows[0]!.id, role: "reviewer", name: "Bench reviewer", email: "bench-reviewer@example.test", request: { requestId: "bench" } };

    /** A cursor 60 % of the way into the filtered set, as a reviewer paging far would hold. */
    async function deepCursor(where: string, params: unknown[]): Promise<string | null> {
      const { rows } = await owner!.query<{ n: string }>(`SELECT count(*)::text AS n FROM handle h WHERE ${where}`, params);
      const offset = Math.floor(Number(rows[0]!.n) * 0.6);
      const { rows: at } = await owner!.query<{ created_at: Date; id: string }>(
        `SELECT created_at, id::text AS id FROM handle h WHERE ${where} ORDER BY created_at DESC, id ASC OFFSET $${params.length + 1} LIMIT 1`,
        [...params, offset],
      );
      const row = at[0];
      return row ? encodeHandleCursor({ sort: "created", dir: "desc", kind: "after", value: row.created_at.toISOString(), id: row.id }) : null;
    }

    const owner1 = (await owner.query<{ id: string }>(`SELECT md5('inv-p1')::uuid::text AS id`)).rows[0]!.id;
    const cases: Array<{ label: string; query: Record<string, string>; where: string; params: unknown[]; deep: boolean }> = [
      { label: "all handles", query: {}, where: "true", params: [], deep: true },
      { label: "preset live", query: { preset: "live" }, where: "h.revoked_at IS NULL AND h.expires_at > now()", params: [], deep: true },
      { label: "preset expiring within 1 h", query: { preset: "expiring" }, where: "false", params: [], deep: false },
      { label: "preset orphaned", query: { preset: "orphaned" }, where: "false", params: [], deep: false },
      { label: "preset bound to ended sessions", query: { preset: "ended_sessions" }, where: "false", params: [], deep: false },
      { label: "preset issued under an old policy", query: { preset: "old_policy" }, where: "false", params: [], deep: false },
      { label: "owner = one agent", query: { owner: owner1 }, where: "h.principal_id = $1::uuid", params: [owner1], deep: true },
      { label: "server = srv-5", query: { server: "srv-5" }, where: "h.server_id = md5('inv-srv5')::uuid", params: [], deep: true },
      { label: "status = failed", query: { status: "failed" }, where: "h.status = 'failed'", params: [], deep: true },
    ];

    const table: TRow[] = [];
    for (const c of cases) {
      const page1 = await time(() => listHandles({ actor, filter: c.query }));
      const first = await listHandles({ actor, filter: c.query });
      table.push({ what: `page 1: ${c.label}`, target: 150, ...page1, rows: `${first.data.length}` });
      if (c.deep) {
        const cursor = await deepCursor(c.where, c.params);
        if (cursor) {
          const deep = await time(() => listHandles({ actor, filter: { ...c.query, cursor } }));
          table.push({ what: `deep cursor (60 %): ${c.label}`, target: 150, ...deep });
        }
      }
      const facets = await time(() => countHandleFacets({ actor, filter: c.query }));
      table.push({ what: `facet counts: ${c.label}`, target: 300, ...facets });
      log(`${c.label}: page 1 p95 ${fmt(page1.p95, 1)} ms, facets p95 ${fmt(facets.p95, 1)} ms`);
    }
    // The handle page: one handle with a long history.
    const { rows: busy } = await owner.query<{ accessor: string }>(
      `SELECT h.accessor FROM handle h WHERE h.id = (SELECT target_id::uuid FROM audit_event WHERE target_type = 'handle' ORDER BY seq DESC LIMIT 1)`,
    );
    const accessor = busy[0]!.accessor;
    const page = await time(async () => Promise.all([getHandle({ actor, accessor }), listHandleTimeline({ actor, query: { accessor } })]));
    table.push({ what: "handle page (handle + first timeline page)", target: 100, ...page });

    const ok = (r: TRow) => r.p95 <= r.target;
    const lines = [
      "",
      `| what (${fmt(Number(counts[0]!.handles))} handles, ${fmt(Number(counts[0]!.events))} audit events; ${SAMPLES} samples each) | target p95 | p50 | p95 |`,
      "|---|---|---|---|",
      ...table.map((r) => `| ${r.what} | ≤ ${r.target} ms | ${fmt(r.p50, 1)} ms | ${fmt(r.p95, 1)} ms${ok(r) ? "" : " ✗"} |`),
      "",
      `${table.filter(ok).length} of ${table.length} within target. Whole bench: ${fmt((performance.now() - t0) / 1000)} s.`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await owner?.end().catch(() => undefined);
    if (db && !REUSE_DB && !KEEP_DB) await dropTestDatabase(db.name).catch((err: Error) => log(`could not drop ${db!.name}: ${err.message}`));
    else if (db) log(`kept database ${db.name} (BENCH_DB=${db.name} reuses it)`);
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:inventory failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
