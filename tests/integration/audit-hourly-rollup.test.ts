// audit_hourly_rollup is derived from audit_event by a trigger in the inserting transaction (migration
// 20261126090000_audit_hourly_rollup); the compliance report reads it instead of scanning every
// event. After a mix of writes (single events, bulk recordAuditEvents, direct inserts with claimed
// times in several hours, a rolled-back transaction) it must agree with a direct count over
// audit_event, and the report's period totals (whole hours from the rollup, the rest from the events)
// must agree with a direct count over the sealed events of a period that does not start on the hour.
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { recordAuditEvent, recordAuditEvents } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { bindMetricQuery, PERIOD_LEAKING_EVENTS, PERIOD_USES } from "@/lib/compliance/controls/sql";
import { getPool, getPrisma } from "@/lib/db/client";
import { setUpEnv } from "./support/env";
import { DAY, MIN, makeEvent, pinCheckpoint } from "./support/compliance-fixtures";
import { setUpOwnDatabase } from "./support/own-database";

setUpOwnDatabase();
setUpEnv(() => ({ TETHER_AUDIT_SIGNING_KEY: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString() }));

const HOUR = 60 * MIN;
const TOKEN = `tht_${"A".repeat(43)}`;

const agent = (id: string, ip: string): TActor => ({ type: "service", id, role: "viewer", name: `agent ${id}`, request: { requestId: randomUUID(), ip } });

/** The rollup's columns computed straight from audit_event, without the rollup's database function. */
const DIRECT = `
  WITH f AS (
    SELECT date_bin('1 hour', e.occurred_at, timestamptz '2000-01-01 00:00:00+00') AS bucket,
           COALESCE(CASE WHEN e.target_type = 'handle' THEN e.target_id END, '') AS handle_id,
           CASE WHEN e.target_type = 'handle' THEN COALESCE(e.actor_id, '') ELSE '' END AS actor_id,
           CASE WHEN e.target_type = 'handle' THEN 0 ELSE (e.txid::text::bigint % 16)::int END AS part,
           e.occurred_at, e.ip, e.outcome = 'ok' AS ok,
           e.target_type = 'handle' AND e.outcome = 'ok'
             AND (e.action IN ('handle.result_fetched', 'handle.polled') OR (e.action = 'handle.cancel_requested' AND e.payload->>'via' = 'agent')) AS handle_use,
           (e.target_type = 'handle' AND ((e.action IN ('handle.result_fetched', 'handle.polled') OR (e.action = 'handle.cancel_requested' AND e.payload->>'via' = 'agent')) AND e.outcome = 'ok' OR e.action = 'handle.denied'))
             OR (e.action = 'gateway.tasks_listed' AND e.outcome = 'ok') AS is_use,
           CASE e.action WHEN 'handle.result_fetched' THEN 'tasks/result' WHEN 'handle.cancel_requested' THEN 'tasks/cancel'
                         WHEN 'gateway.tasks_listed' THEN 'tasks/list' ELSE e.payload->>'operation' END AS operation,
           CASE WHEN e.action = 'handle.denied' THEN e.payload->>'cause' END AS cause,
           concat_ws(' ', CASE WHEN e.action IN ('handle.polled', 'handle.result_fetched', 'handle.expired', 'handle.revoked', 'handle.denied', 'handle.cancel_requested',
                                                 'handle.cancel_outcome', 'gateway.tasks_listed') THEN '' ELSE e.payload::text END,
                     e.reason, e.user_agent, e.target_id, e.actor_id) ~ 'tht_[A-Za-z0-9_-]{43}' AS leaking
      FROM audit_event e
  )
  SELECT bucket, handle_id, actor_id, part, count(*) FILTER (WHERE leaking)::int AS leaking_n,
         count(*) FILTER (WHERE is_use)::int AS use_n, count(*) FILTER (WHERE is_use AND ok)::int AS ok_n,
         max(occurred_at) FILTER (WHERE is_use AND ok) AS last_ok_at,
         COALESCE((SELECT jsonb_object_agg(o.operation, o.n) FROM (SELECT f2.operation, count(*) AS n FROM f f2
                    WHERE f2.bucket = f.bucket AND f2.handle_id = f.handle_id AND f2.actor_id = f.actor_id AND f2.part = f.part
                      AND f2.is_use AND f2.ok AND f2.operation IS NOT NULL
                    GROUP BY 1) o), '{}'::jsonb) AS ops,
         min(ip) FILTER (WHERE is_use) AS ip_min, max(ip) FILTER (WHERE is_use) AS ip_max,
         count(*) FILTER (WHERE is_use AND NOT ok AND cause = 'principal_mismatch')::int AS denied_principal_n,
         count(*) FILTER (WHERE is_use AND NOT ok AND cause = 'session_mismatch')::int AS denied_session_n,
         count(*) FILTER (WHERE is_use AND NOT ok AND cause = 'audience_mismatch')::int AS denied_audience_n,
         count(*) FILTER (WHERE is_use AND NOT ok AND cause = 'policy_invalidated')::int AS denied_policy_n,
         count(*) FILTER (WHERE is_use AND cause IN ('principal_mismatch', 'session_mismatch'))::int AS foreign_cause_n,
         max(occurred_at) FILTER (WHERE handle_use) AS last_use_at
    FROM f WHERE is_use OR leaking GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`;

const ROLLUP = `
  SELECT bucket, handle_id, actor_id, part::int, leaking_n::int, use_n::int, ok_n::int, last_ok_at, ops, ip_min, ip_max,
         denied_principal_n::int, denied_session_n::int, denied_audience_n::int, denied_policy_n::int, foreign_cause_n::int,
         last_use_at
    FROM audit_hourly_rollup ORDER BY 1, 2, 3, 4`;

describe("audit_hourly_rollup", () => {
  it("agrees with a direct count over audit_event after a mix of writes", async () => {
    const handleA = randomUUID();
    const handleB = randomUUID();
    const base = new Date(Math.floor(Date.now() / DAY) * DAY - 20 * DAY);

    // Single events through recordAuditEvent, each in its own transaction (now).
    await getPrisma().$transaction(async (tx) => {
      await recordAuditEvent(tx, { actor: agent("a1", "10.0.0.1"), action: "handle.polled", target: { type: "handle", id: handleA }, payload: { accessor: "hdl_a", operation: "tasks/get", status: "working" } });
      await recordAuditEvent(tx, { actor: agent("a1", "10.0.0.2"), action: "handle.result_fetched", target: { type: "handle", id: handleA }, payload: { accessor: "hdl_a", status: "completed" } });
    });
    await getPrisma().$transaction((tx) =>
      recordAuditEvent(tx, { actor: agent("a2", "10.0.0.9"), action: "handle.denied", outcome: "denied", target: { type: "handle", id: handleA }, payload: { accessor: "hdl_a", operation: "tasks/get", cause: "principal_mismatch" } }),
    );
    // A bulk insert: one statement, several handles, actors and actions.
    await getPrisma().$transaction((tx) =>
      recordAuditEvents(tx, [
        { actor: agent("a1", "10.0.0.1"), action: "handle.polled", target: { type: "handle", id: handleA }, payload: { accessor: "hdl_a", operation: "tasks/get", status: "working" } },
        { actor: agent("a1", "10.0.0.1"), action: "handle.cancel_requested", target: { type: "handle", id: handleA }, payload: { accessor: "hdl_a", via: "agent" } },
        { actor: agent("a3", "10.0.0.3"), action: "handle.denied", outcome: "denied", target: { type: "handle", id: handleB }, payload: { accessor: "hdl_b", operation: "tasks/result", cause: "audience_mismatch" } },
        { actor: agent("a3", "10.0.0.3"), action: "handle.denied", outcome: "denied", target: { type: "handle", id: handleB }, payload: { accessor: null, operation: "tasks/get", cause: "policy_invalidated" } },
        { actor: agent("a3", "10.0.0.4"), action: "gateway.tasks_listed", target: { type: "gateway_session", id: randomUUID() }, payload: { serverId: "s", sessionId: "x", count: 2 } },
        { actor: agent("a3", "10.0.0.4"), action: "handle.cancel_requested", target: { type: "handle", id: handleB }, payload: { accessor: "hdl_b", via: "console" } },
        { actor: agent("a3", "10.0.0.4"), action: "handle.revoked", reason: `leaked ${TOKEN}`, target: { type: "handle", id: handleB }, payload: { accessor: "hdl_b", trigger: "manual", serverId: "s" } },
        { actor: agent("a3", "10.0.0.4"), action: "handle.expired", target: { type: "handle", id: handleA }, payload: { accessor: "hdl_a", expiredAt: new Date().toISOString() } },
      ]),
    );
    // Direct inserts with claimed times spread over hours (a bench or an import writes them so).
    for (const [i, offset] of [0, 10 * MIN, HOUR + 5 * MIN, 3 * HOUR, 3 * HOUR + 59 * MIN].entries()) {
      await makeEvent({ action: "handle.polled", occurredAt: new Date(base.getTime() + offset), actorId: i % 2 ? "a1" : "a2", ip: `10.1.0.${i}`, target: { type: "handle", id: handleB }, payload: { accessor: "hdl_b", operation: i === 4 ? "tasks/update" : "tasks/get", status: "working" } });
    }
    await makeEvent({ action: "handle.denied", occurredAt: new Date(base.getTime() + 3 * HOUR), actorId: "a2", outcome: "ok", target: { type: "handle", id: handleB }, payload: { accessor: "hdl_b", operation: "tasks/get", cause: "session_mismatch" } });
    await makeEvent({ action: "system.started", occurredAt: new Date(base.getTime() + 2 * HOUR), actorType: "system", actorId: null, payload: { version: TOKEN, mode: "external" } });
    // A rolled-back transaction leaves neither events nor rollup totals.
    await expect(
      getPrisma().$transaction(async (tx) => {
        await recordAuditEvent(tx, { actor: agent("a9", "10.9.9.9"), action: "handle.polled", target: { type: "handle", id: handleA }, payload: { accessor: "hdl_a", operation: "tasks/get", status: "working" } });
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");

    const direct = (await getPool().query(DIRECT)).rows;
    const rollup = (await getPool().query(ROLLUP)).rows;
    expect(rollup).toEqual(direct);
    // The fixture exercised what it means to: several hours, a leak, bulk rows, foreign causes, ip ranges.
    expect(new Set(rollup.map((r) => String(r.bucket))).size).toBeGreaterThanOrEqual(4);
    expect(rollup.reduce((n, r) => n + (r.leaking_n as number), 0)).toBe(2);
    expect(rollup.find((r) => r.handle_id === handleA && r.actor_id === "a1")).toMatchObject({ ok_n: 4, ops: { "tasks/get": 2, "tasks/result": 1, "tasks/cancel": 1 }, ip_min: "10.0.0.1", ip_max: "10.0.0.2" });
    expect(rollup.find((r) => r.handle_id === handleA && r.actor_id === "a9")).toBeUndefined();
    // An agent cancel is a use (H-07's last use), a console cancel is not.
    expect(rollup.find((r) => r.handle_id === handleA && r.actor_id === "a1")?.last_use_at).toBeInstanceOf(Date);
    expect(rollup.find((r) => r.handle_id === handleB && r.actor_id === "a3")).toMatchObject({ use_n: 2, ok_n: 0, last_use_at: null });
  });

  it("refuses writes from the application role: only inserting audit events changes it", async () => {
    const client = await getPool().connect();
    try {
      await client.query("BEGIN");
      await client.query("SET LOCAL ROLE tether_app");
      await expect(client.query("UPDATE audit_hourly_rollup SET use_n = use_n + 1")).rejects.toThrow(/permission denied/);
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
  });

  it("lets concurrent transactions of one actor record events about no handle without queueing on one rollup row", async () => {
    const actorId = randomUUID();
    const insert = (client: { query: (q: string, v: unknown[]) => Promise<unknown> }) =>
      client.query(
        "INSERT INTO audit_event (id, actor_type, actor_id, action, target_type, target_id, outcome, payload) VALUES (gen_random_uuid(), 'user', $1, 'user.enabled', 'principal', $1, 'ok', '{}')",
        [actorId],
      );
    const first = await getPool().connect();
    const second = await getPool().connect();
    try {
      await first.query("BEGIN");
      await insert(first); // holds its rollup row until it commits
      // Each new transaction lands in another part of the hour (by transaction id); without the
      // split, every attempt would wait for the first transaction and hit the lock timeout.
      let recorded = 0;
      for (let attempt = 0; attempt < 3 && recorded === 0; attempt++) {
        await second.query("BEGIN");
        await second.query("SET LOCAL lock_timeout = '2s'");
        try {
          await insert(second);
          await second.query("COMMIT");
          recorded++;
        } catch (err) {
          await second.query("ROLLBACK");
          if (!/lock timeout/.test((err as Error).message)) throw err;
        }
      }
      expect(recorded).toBe(1);
      await first.query("COMMIT");
    } finally {
      first.release();
      second.release();
    }
    const { rows } = await getPool().query<{ n: number }>("SELECT count(*)::int AS n FROM audit_event WHERE actor_id = $1", [actorId]);
    expect(rows[0]!.n).toBe(2);
  });

  it("gives the report's period totals exactly: whole hours from the rollup, edges and events after the checkpoint from audit_event", async () => {
    // A period starting and ending mid-hour, with events inside and outside it.
    const start = new Date(Math.floor(Date.now() / DAY) * DAY - 10 * DAY + 17 * MIN);
    const end = new Date(start.getTime() + 5 * HOUR + 13 * MIN);
    const at = (ms: number) => new Date(start.getTime() + ms);
    const handle = randomUUID();
    const use = (when: Date, actorId: string, extra: { outcome?: "ok" | "denied"; cause?: string } = {}) =>
      makeEvent({ action: extra.cause ? "handle.denied" : "handle.polled", occurredAt: when, actorId, ip: "10.2.0.1", outcome: extra.outcome ?? "ok", target: { type: "handle", id: handle }, payload: { accessor: "hdl_p", operation: "tasks/get", status: "working", ...(extra.cause ? { cause: extra.cause } : {}) } });
    for (const ms of [-MIN, 0, 20 * MIN, 50 * MIN, 2 * HOUR, 4 * HOUR + 30 * MIN, 5 * HOUR + 12 * MIN, 5 * HOUR + 13 * MIN]) await use(at(ms), "p1");
    await use(at(HOUR), "p2", { outcome: "denied", cause: "principal_mismatch" });
    const leak = (when: Date) => makeEvent({ action: "system.started", occurredAt: when, actorType: "system", actorId: null, payload: { version: TOKEN, mode: "external" } });
    await leak(at(3 * HOUR)); // a whole hour: from the rollup
    await leak(at(5 * MIN)); // the start's partial hour: from the events
    await leak(at(-5 * MIN)); // before the period
    const cp = await pinCheckpoint();
    // Committed after the checkpoint: in the rollup, but not covered by the report.
    await use(at(2 * HOUR + MIN), "p3");
    await leak(at(3 * HOUR + MIN));

    const ctx = { start, end, ...cp, target: 0 };
    const totals = bindMetricQuery(PERIOD_LEAKING_EVENTS, ctx);
    const [row] = (await getPool().query<{ leaking: string }>(totals.text, totals.values)).rows;
    const { rows: expected } = await getPool().query<{ leaking: string }>(
      `SELECT count(*)::text AS leaking FROM audit_event e
        WHERE e.occurred_at >= $1 AND e.occurred_at < $2 AND (e.txid, e.seq) <= ($3::text::xid8, $4::bigint) AND e.payload::text LIKE '%tht\\_%'`,
      [start, end, cp.cpTxid, cp.cpSeq],
    );
    expect(row).toEqual(expected[0]);
    expect(row).toEqual({ leaking: "2" }); // the two inside the period; not the one before it, not the late one

    const uses = bindMetricQuery(`WITH period_uses AS (${PERIOD_USES})
      SELECT count(DISTINCT actor_id)::int AS actors, sum(use_n)::int AS uses, sum(ok_n)::int AS ok, sum(denied_principal_n)::int AS denied
        FROM period_uses WHERE handle_id = '${handle}'`, ctx);
    const [u] = (await getPool().query(uses.text, uses.values)).rows;
    expect(u).toEqual({ actors: 2, uses: 7, ok: 6, denied: 1 });
  });
});
