-- CreateTable
CREATE TABLE "audit_hourly_rollup" (
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "handle_id" TEXT NOT NULL,
    "actor_id" TEXT NOT NULL,
    "leaking_n" BIGINT NOT NULL DEFAULT 0,
    "use_n" BIGINT NOT NULL DEFAULT 0,
    "ok_n" BIGINT NOT NULL DEFAULT 0,
    "last_ok_at" TIMESTAMPTZ(3),
    "ops" JSONB NOT NULL DEFAULT '{}',
    "ip_min" TEXT,
    "ip_max" TEXT,
    "denied_principal_n" BIGINT NOT NULL DEFAULT 0,
    "denied_session_n" BIGINT NOT NULL DEFAULT 0,
    "denied_audience_n" BIGINT NOT NULL DEFAULT 0,
    "denied_policy_n" BIGINT NOT NULL DEFAULT 0,
    "foreign_cause_n" BIGINT NOT NULL DEFAULT 0,
    "last_use_at" TIMESTAMPTZ(3),
    "part" SMALLINT NOT NULL DEFAULT 0,

    CONSTRAINT "audit_hourly_rollup_pkey" PRIMARY KEY ("bucket","handle_id","actor_id","part")
);

-- CreateIndex
CREATE INDEX "audit_hourly_rollup_handle_id_idx" ON "audit_hourly_rollup"("handle_id");

-- ---------------------------------------------------------------------------------------------
-- Hand-written below this line.
-- ---------------------------------------------------------------------------------------------
-- audit_hourly_rollup is DERIVED from audit_event, never a source of truth. Per hour (date_bin,
-- so independent of the session's time zone), handle (the target id of events about a handle) and
-- actor, it holds what the compliance report used to scan every event of a period for (issue 7):
-- the handle presentations of the report's shared pass (H-05, H-08, H-14, H-15, H-18) — uses and
-- denials, the successful ones and their last time, per operation, the range of client addresses,
-- denials by cause —, each handle's last successful use (H-07), and events whose text looks like a
-- leaked secret (H-16). Other events add nothing. Events about no handle (task lists, leaks) have
-- handle and actor '' and are split into 16 parts by inserting transaction: a row stays locked
-- from the upsert to the commit, and concurrent transactions must not queue on one row. A handle's
-- row is shared only by concurrent uses of that handle by one actor.
--
-- audit_event stays append-only and authoritative. The trigger below adds to this table in the
-- inserting transaction, so it always agrees with the events visible in the same snapshot, and it
-- can be rebuilt from audit_event at any time (the backfill below is that rebuild). The report
-- still reads the events themselves for the hours a rollup cannot answer exactly (the partial
-- hours at the period's edges, hours in which a policy version took effect, hours holding events
-- the report's checkpoint does not cover); see lib/compliance/controls/sql.ts.

-- What one audit event contributes. The single definition of a handle presentation and of a
-- leaked-looking secret, used by the trigger, the backfill and the report's reads of raw hours.
CREATE FUNCTION audit_rollup_event(p_occurred_at timestamptz, p_actor_id text, p_action text, p_target_type text, p_target_id text,
                                   p_outcome text, p_reason text, p_ip text, p_user_agent text, p_payload jsonb)
RETURNS TABLE (bucket timestamptz, handle_id text, actor_id text, is_use boolean, is_handle_use boolean, ok boolean, operation text, cause text, leaking boolean)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT date_bin('1 hour', p_occurred_at, timestamptz '2000-01-01 00:00:00+00'),
         CASE WHEN p_target_type = 'handle' THEN p_target_id END,
         p_actor_id,
         -- A successful use (result fetched, audited poll, agent cancel) or a denial of a handle,
         -- or a successful task list.
         COALESCE((p_target_type = 'handle'
                   AND (((p_action IN ('handle.result_fetched', 'handle.polled') OR (p_action = 'handle.cancel_requested' AND p_payload->>'via' = 'agent'))
                         AND p_outcome = 'ok')
                        OR p_action = 'handle.denied'))
                  OR (p_action = 'gateway.tasks_listed' AND p_outcome = 'ok'), false),
         -- A successful use of a handle only (H-07's "used after the revocation request").
         COALESCE(p_target_type = 'handle' AND p_outcome = 'ok'
                  AND (p_action IN ('handle.result_fetched', 'handle.polled') OR (p_action = 'handle.cancel_requested' AND p_payload->>'via' = 'agent')), false),
         p_outcome = 'ok',
         CASE p_action WHEN 'handle.result_fetched' THEN 'tasks/result'
                       WHEN 'handle.cancel_requested' THEN 'tasks/cancel'
                       WHEN 'gateway.tasks_listed' THEN 'tasks/list'
                       ELSE p_payload->>'operation' END,
         CASE WHEN p_action = 'handle.denied' THEN p_payload->>'cause' END,
         -- H-16: a string shaped like a handle token or an API key in the payload (not for the
         -- high-volume lifecycle events whose payload schemas hold only accessors, ids, enums and
         -- keyed hashes) or in the reason, user agent, target or actor. Cheap substring tests first.
         (SELECT CASE WHEN strpos(t.payload, 'tht_') > 0 OR strpos(t.payload, 'tth_') > 0 OR strpos(t.other, 'tht_') > 0 OR strpos(t.other, 'tth_') > 0
                      THEN concat_ws(' ', t.payload, t.other) ~ 'tht_[A-Za-z0-9_-]{43}|tth_[0-9a-f]{8}_[A-Za-z0-9_-]{43}' ELSE false END
            FROM (SELECT CASE WHEN p_action IN ('handle.polled', 'handle.result_fetched', 'handle.expired', 'handle.revoked', 'handle.denied',
                                                'handle.cancel_requested', 'handle.cancel_outcome', 'gateway.tasks_listed')
                              THEN '' ELSE p_payload::text END AS payload,
                         concat_ws(' ', p_reason, p_user_agent, p_target_id, p_actor_id) AS other) t)
$$;

-- Adds two operation → count maps.
CREATE FUNCTION audit_rollup_sum_ops(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN b = '{}'::jsonb THEN a WHEN a = '{}'::jsonb THEN b
              ELSE (SELECT jsonb_object_agg(k, s) FROM (SELECT k, sum(v::bigint) AS s
                                                          FROM (SELECT key AS k, value AS v FROM jsonb_each_text(a)
                                                                UNION ALL SELECT key, value FROM jsonb_each_text(b)) u
                                                         GROUP BY k) t) END
$$;

-- One upsert per relevant event, in the inserting transaction. Only handle presentations and
-- leaked-looking events have anything to add; the WHEN clause lets every other event (most of the
-- console's and the workers') through without calling the function. SECURITY DEFINER: the
-- application role may not write the rollup itself (grants below), only by inserting audit events.
CREATE FUNCTION audit_hourly_rollup_add() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
AS $$
DECLARE
  x record;
BEGIN
  SELECT * INTO x FROM audit_rollup_event(NEW.occurred_at, NEW.actor_id, NEW.action, NEW.target_type, NEW.target_id, NEW.outcome::text,
                                          NEW.reason, NEW.ip, NEW.user_agent, NEW.payload);
  IF NOT (x.is_use OR x.leaking) THEN
    RETURN NULL;
  END IF;
  INSERT INTO audit_hourly_rollup AS r (bucket, handle_id, actor_id, part, leaking_n, use_n, ok_n, last_ok_at, ops, ip_min, ip_max,
                                        denied_principal_n, denied_session_n, denied_audience_n, denied_policy_n, foreign_cause_n, last_use_at)
  VALUES (x.bucket, COALESCE(x.handle_id, ''),
          CASE WHEN x.handle_id IS NULL THEN '' ELSE COALESCE(x.actor_id, '') END,
          CASE WHEN x.handle_id IS NULL THEN (NEW.txid::text::bigint % 16)::smallint ELSE 0::smallint END,
          x.leaking::int, x.is_use::int, (x.is_use AND x.ok)::int,
          CASE WHEN x.is_use AND x.ok THEN NEW.occurred_at END,
          CASE WHEN x.is_use AND x.ok AND x.operation IS NOT NULL THEN jsonb_build_object(x.operation, 1) ELSE '{}'::jsonb END,
          CASE WHEN x.is_use THEN NEW.ip END, CASE WHEN x.is_use THEN NEW.ip END,
          COALESCE(x.is_use AND NOT x.ok AND x.cause = 'principal_mismatch', false)::int,
          COALESCE(x.is_use AND NOT x.ok AND x.cause IN ('session_mismatch', 'credential_mismatch'), false)::int,
          COALESCE(x.is_use AND NOT x.ok AND x.cause = 'audience_mismatch', false)::int,
          COALESCE(x.is_use AND NOT x.ok AND x.cause = 'policy_invalidated', false)::int,
          COALESCE(x.is_use AND x.cause IN ('principal_mismatch', 'session_mismatch', 'credential_mismatch'), false)::int,
          CASE WHEN x.is_handle_use THEN NEW.occurred_at END)
  ON CONFLICT (bucket, handle_id, actor_id, part) DO UPDATE SET
    leaking_n = r.leaking_n + EXCLUDED.leaking_n,
    use_n = r.use_n + EXCLUDED.use_n,
    ok_n = r.ok_n + EXCLUDED.ok_n,
    last_ok_at = GREATEST(r.last_ok_at, EXCLUDED.last_ok_at),
    ops = audit_rollup_sum_ops(r.ops, EXCLUDED.ops),
    ip_min = LEAST(r.ip_min, EXCLUDED.ip_min),
    ip_max = GREATEST(r.ip_max, EXCLUDED.ip_max),
    denied_principal_n = r.denied_principal_n + EXCLUDED.denied_principal_n,
    denied_session_n = r.denied_session_n + EXCLUDED.denied_session_n,
    denied_audience_n = r.denied_audience_n + EXCLUDED.denied_audience_n,
    denied_policy_n = r.denied_policy_n + EXCLUDED.denied_policy_n,
    foreign_cause_n = r.foreign_cause_n + EXCLUDED.foreign_cause_n,
    last_use_at = GREATEST(r.last_use_at, EXCLUDED.last_use_at);
  RETURN NULL;
END;
$$;

-- No event may be inserted between the backfill's read and the trigger taking over.
LOCK TABLE audit_event IN SHARE ROW EXCLUSIVE MODE;

-- The WHEN clause is a cheap superset of "a presentation or leaked-looking" (audit_rollup_event decides).
CREATE TRIGGER audit_event_hourly_rollup AFTER INSERT ON audit_event
FOR EACH ROW
WHEN ((NEW.target_type = 'handle' AND NEW.action IN ('handle.result_fetched', 'handle.polled', 'handle.cancel_requested', 'handle.denied'))
      OR NEW.action = 'gateway.tasks_listed'
      OR strpos(NEW.payload::text, 'tht_') > 0 OR strpos(NEW.payload::text, 'tth_') > 0
      OR strpos(concat_ws(' ', NEW.reason, NEW.user_agent, NEW.target_id, NEW.actor_id), 'tht_') > 0
      OR strpos(concat_ws(' ', NEW.reason, NEW.user_agent, NEW.target_id, NEW.actor_id), 'tth_') > 0)
EXECUTE FUNCTION audit_hourly_rollup_add();

-- Backfill from the events already recorded (what the trigger would have added, aggregated).
INSERT INTO audit_hourly_rollup (bucket, handle_id, actor_id, part, leaking_n, use_n, ok_n, last_ok_at, ops, ip_min, ip_max,
                                 denied_principal_n, denied_session_n, denied_audience_n, denied_policy_n, foreign_cause_n, last_use_at)
SELECT g.bucket, g.handle_id, g.actor_id, g.part, sum(g.leaking_n), sum(g.use_n), sum(g.ok_n), max(g.last_ok_at),
       COALESCE(jsonb_object_agg(g.op, g.ok_n) FILTER (WHERE g.op IS NOT NULL), '{}'::jsonb), min(g.ip_min), max(g.ip_max),
       sum(g.denied_principal_n), sum(g.denied_session_n), sum(g.denied_audience_n), sum(g.denied_policy_n), sum(g.foreign_cause_n), max(g.last_use_at)
  FROM (SELECT x.bucket, COALESCE(x.handle_id, '') AS handle_id,
               CASE WHEN x.handle_id IS NULL THEN '' ELSE COALESCE(x.actor_id, '') END AS actor_id,
               CASE WHEN x.handle_id IS NULL THEN (e.txid::text::bigint % 16)::smallint ELSE 0::smallint END AS part,
               CASE WHEN x.is_use AND x.ok THEN x.operation END AS op,
               count(*) FILTER (WHERE x.leaking) AS leaking_n,
               count(*) FILTER (WHERE x.is_use) AS use_n,
               count(*) FILTER (WHERE x.is_use AND x.ok) AS ok_n,
               max(e.occurred_at) FILTER (WHERE x.is_use AND x.ok) AS last_ok_at,
               min(e.ip) FILTER (WHERE x.is_use) AS ip_min,
               max(e.ip) FILTER (WHERE x.is_use) AS ip_max,
               count(*) FILTER (WHERE x.is_use AND NOT x.ok AND x.cause = 'principal_mismatch') AS denied_principal_n,
               count(*) FILTER (WHERE x.is_use AND NOT x.ok AND x.cause IN ('session_mismatch', 'credential_mismatch')) AS denied_session_n,
               count(*) FILTER (WHERE x.is_use AND NOT x.ok AND x.cause = 'audience_mismatch') AS denied_audience_n,
               count(*) FILTER (WHERE x.is_use AND NOT x.ok AND x.cause = 'policy_invalidated') AS denied_policy_n,
               count(*) FILTER (WHERE x.is_use AND x.cause IN ('principal_mismatch', 'session_mismatch', 'credential_mismatch')) AS foreign_cause_n,
               max(e.occurred_at) FILTER (WHERE x.is_handle_use) AS last_use_at
          FROM audit_event e
         CROSS JOIN LATERAL audit_rollup_event(e.occurred_at, e.actor_id, e.action, e.target_type, e.target_id, e.outcome::text,
                                               e.reason, e.ip, e.user_agent, e.payload) x
         WHERE x.is_use OR x.leaking
         GROUP BY 1, 2, 3, 4, 5) g
 GROUP BY 1, 2, 3, 4;

-- The rollup's writer is the trigger above; the application role only reads it.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON "audit_hourly_rollup" FROM tether_app;
