-- The gateway keeps the rows every agent call reads in memory (lib/gateway/gateway-cache.ts).
-- These triggers tell every instance, on commit, which row changed: `<table>:<id>` on the channel
-- `tether_gateway` (or `<table>` alone after a TRUNCATE, or for the policy). They fire only when a
-- column the gateway judges by changes, so the status sync's poll bookkeeping and batched use
-- counts stay silent.

CREATE FUNCTION tether_gateway_invalidate_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('tether_gateway', TG_TABLE_NAME || ':' || OLD.id::text);
  ELSE
    PERFORM pg_notify('tether_gateway', TG_TABLE_NAME || ':' || NEW.id::text);
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION tether_gateway_invalidate_table() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tether_gateway', TG_TABLE_NAME);
  RETURN NULL;
END
$$;

CREATE TRIGGER handle_gateway_invalidate_update AFTER UPDATE ON handle FOR EACH ROW
  WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
     OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
     OR OLD.status IS DISTINCT FROM NEW.status
     OR OLD.status_message IS DISTINCT FROM NEW.status_message
     OR OLD.session_id IS DISTINCT FROM NEW.session_id
     OR OLD.principal_id IS DISTINCT FROM NEW.principal_id
     OR OLD.server_id IS DISTINCT FROM NEW.server_id
     OR OLD.policy_version IS DISTINCT FROM NEW.policy_version
     OR OLD.effective_ttl_ms IS DISTINCT FROM NEW.effective_ttl_ms
     OR OLD.token_hash IS DISTINCT FROM NEW.token_hash
     OR OLD.upstream_task_id_enc IS DISTINCT FROM NEW.upstream_task_id_enc)
  EXECUTE FUNCTION tether_gateway_invalidate_row();
CREATE TRIGGER handle_gateway_invalidate_delete AFTER DELETE ON handle FOR EACH ROW EXECUTE FUNCTION tether_gateway_invalidate_row();
CREATE TRIGGER handle_gateway_invalidate_truncate AFTER TRUNCATE ON handle FOR EACH STATEMENT EXECUTE FUNCTION tether_gateway_invalidate_table();

CREATE TRIGGER gateway_session_gateway_invalidate AFTER UPDATE OR DELETE ON gateway_session FOR EACH ROW EXECUTE FUNCTION tether_gateway_invalidate_row();
CREATE TRIGGER gateway_session_gateway_invalidate_truncate AFTER TRUNCATE ON gateway_session FOR EACH STATEMENT EXECUTE FUNCTION tether_gateway_invalidate_table();

CREATE TRIGGER api_key_gateway_invalidate AFTER UPDATE OR DELETE ON api_key FOR EACH ROW EXECUTE FUNCTION tether_gateway_invalidate_row();
CREATE TRIGGER api_key_gateway_invalidate_truncate AFTER TRUNCATE ON api_key FOR EACH STATEMENT EXECUTE FUNCTION tether_gateway_invalidate_table();

CREATE TRIGGER principal_gateway_invalidate AFTER UPDATE OR DELETE ON principal FOR EACH ROW EXECUTE FUNCTION tether_gateway_invalidate_row();
CREATE TRIGGER principal_gateway_invalidate_truncate AFTER TRUNCATE ON principal FOR EACH STATEMENT EXECUTE FUNCTION tether_gateway_invalidate_table();

CREATE TRIGGER mcp_server_gateway_invalidate AFTER UPDATE OR DELETE ON mcp_server FOR EACH ROW EXECUTE FUNCTION tether_gateway_invalidate_row();
CREATE TRIGGER mcp_server_gateway_invalidate_truncate AFTER TRUNCATE ON mcp_server FOR EACH STATEMENT EXECUTE FUNCTION tether_gateway_invalidate_table();

CREATE TRIGGER handle_policy_gateway_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON handle_policy FOR EACH STATEMENT EXECUTE FUNCTION tether_gateway_invalidate_table();
