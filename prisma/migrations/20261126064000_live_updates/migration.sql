-- Live updates for the console (lib/live, app/api/live): every change a browser should see at once
-- is announced on the channel `tether_live`, delivered on commit to every console instance that
-- listens, as a small JSON payload with nothing secret in it: the kind of change, the handle's
-- accessor, status, whether it is revoked, and its server id (or the server's id, health and
-- switches). Never the token, its hash, the upstream task id or a status message.
--
-- Handles: statement-level triggers with transition tables, so one statement that changes many
-- handles (a bulk revoke, the expiry sweeper, a server removal) sends one summary instead of one
-- notification per row; up to 20 changed rows are announced one by one. The UPDATE trigger fires
-- for every UPDATE statement on handle but notifies only when a column a viewer sees changed
-- (status, status message, revocation, cancel state, expiry), so the status sync's poll
-- bookkeeping and the gateway's batched use counts stay silent. Payloads stay far below
-- Postgres' 8000-byte limit: a row payload is about 170 bytes, a summary names at most 20 servers.
-- Servers: a row-level trigger on registration and on a change of health, enabled, polling
-- paused or removal (rare; the routine health check that changes none of them stays silent).

CREATE FUNCTION tether_live_handle_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  total bigint;
  kinds json;
  servers json;
  server_count bigint;
  payloads text[];
  payload text;
  r record;
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT count(*) INTO total FROM new_rows;
    IF total = 0 THEN
      RETURN NULL;
    ELSIF total <= 20 THEN
      FOR r IN SELECT accessor, status::text AS status, revoked_at IS NOT NULL AS revoked, server_id FROM new_rows ORDER BY created_at, id LOOP
        PERFORM pg_notify('tether_live', json_build_object('type', 'handle', 'change', 'issued', 'accessor', r.accessor,
          'status', r.status, 'revoked', r.revoked, 'serverId', r.server_id)::text);
      END LOOP;
    ELSE
      SELECT (SELECT json_agg(s.server_id) FROM (SELECT DISTINCT server_id FROM new_rows ORDER BY 1 LIMIT 20) s),
             count(DISTINCT server_id)
        INTO servers, server_count FROM new_rows;
      PERFORM pg_notify('tether_live', json_build_object('type', 'handle', 'change', 'bulk', 'count', total,
        'kinds', json_build_array('issued'), 'serverIds', servers, 'moreServers', server_count > 20)::text);
    END IF;
    RETURN NULL;
  END IF;

  -- UPDATE: the rows whose visible columns changed, each with the most telling kind of change.
  -- At most 21 are built first: 20 or fewer are sent one by one, more make a summary.
  payloads := ARRAY(
    SELECT json_build_object('type', 'handle', 'change', c.change, 'accessor', c.accessor, 'status', c.status,
                             'revoked', c.revoked, 'serverId', c.server_id)::text
      FROM (SELECT n.accessor, n.status::text AS status, n.revoked_at IS NOT NULL AS revoked, n.server_id,
                   CASE WHEN o.revoked_at IS DISTINCT FROM n.revoked_at THEN 'revoked'
                        WHEN o.expired_at IS DISTINCT FROM n.expired_at THEN 'expired'
                        WHEN o.cancel_state IS DISTINCT FROM n.cancel_state THEN 'cancel'
                        WHEN o.status IS DISTINCT FROM n.status THEN 'status'
                        ELSE 'message' END AS change
              FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE o.status IS DISTINCT FROM n.status
                OR o.status_message IS DISTINCT FROM n.status_message
                OR o.revoked_at IS DISTINCT FROM n.revoked_at
                OR o.cancel_state IS DISTINCT FROM n.cancel_state
                OR o.expired_at IS DISTINCT FROM n.expired_at
             LIMIT 21) c);
  IF cardinality(payloads) = 0 THEN
    RETURN NULL;
  ELSIF cardinality(payloads) <= 20 THEN
    FOREACH payload IN ARRAY payloads LOOP
      PERFORM pg_notify('tether_live', payload);
    END LOOP;
    RETURN NULL;
  END IF;
  WITH c AS (
    SELECT n.server_id,
           CASE WHEN o.revoked_at IS DISTINCT FROM n.revoked_at THEN 'revoked'
                WHEN o.expired_at IS DISTINCT FROM n.expired_at THEN 'expired'
                WHEN o.cancel_state IS DISTINCT FROM n.cancel_state THEN 'cancel'
                WHEN o.status IS DISTINCT FROM n.status THEN 'status'
                ELSE 'message' END AS change
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE o.status IS DISTINCT FROM n.status
        OR o.status_message IS DISTINCT FROM n.status_message
        OR o.revoked_at IS DISTINCT FROM n.revoked_at
        OR o.cancel_state IS DISTINCT FROM n.cancel_state
        OR o.expired_at IS DISTINCT FROM n.expired_at)
  SELECT count(*), json_agg(DISTINCT c.change), count(DISTINCT c.server_id),
         (SELECT json_agg(s.server_id) FROM (SELECT DISTINCT server_id FROM c ORDER BY 1 LIMIT 20) s)
    INTO total, kinds, server_count, servers
    FROM c;
  PERFORM pg_notify('tether_live', json_build_object('type', 'handle', 'change', 'bulk', 'count', total,
    'kinds', kinds, 'serverIds', servers, 'moreServers', server_count > 20)::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER handle_live_insert AFTER INSERT ON handle REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tether_live_handle_change();
CREATE TRIGGER handle_live_update AFTER UPDATE ON handle REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tether_live_handle_change();

CREATE FUNCTION tether_live_server_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  change text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    change := 'registered';
  ELSIF OLD.removed_at IS DISTINCT FROM NEW.removed_at THEN
    change := 'removed';
  ELSIF OLD.enabled IS DISTINCT FROM NEW.enabled THEN
    change := 'enabled';
  ELSIF OLD.polling_paused IS DISTINCT FROM NEW.polling_paused THEN
    change := 'polling';
  ELSE
    change := 'health';
  END IF;
  PERFORM pg_notify('tether_live', json_build_object('type', 'server', 'change', change, 'serverId', NEW.id,
    'health', NEW.health::text, 'enabled', NEW.enabled, 'pollingPaused', NEW.polling_paused, 'removed', NEW.removed_at IS NOT NULL)::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER mcp_server_live_insert AFTER INSERT ON mcp_server FOR EACH ROW EXECUTE FUNCTION tether_live_server_change();
CREATE TRIGGER mcp_server_live_update AFTER UPDATE ON mcp_server FOR EACH ROW
  WHEN (OLD.health IS DISTINCT FROM NEW.health
     OR OLD.enabled IS DISTINCT FROM NEW.enabled
     OR OLD.polling_paused IS DISTINCT FROM NEW.polling_paused
     OR OLD.removed_at IS DISTINCT FROM NEW.removed_at)
  EXECUTE FUNCTION tether_live_server_change();
