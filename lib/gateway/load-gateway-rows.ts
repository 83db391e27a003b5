import "server-only";
import { getPool } from "@/lib/db/client";
import { gatewayCache } from "./gateway-cache";

// The rows a task call is judged by (its session, the handle its token names, the policy in
// force), from the gateway cache when it holds them all, else in one statement that also fills it.

export type TSessionRow = {
  s_id: string;
  s_principal_id: string;
  s_server_id: string;
  s_ended_at: Date | null;
  s_upstream_session_enc: string | null;
  s_protocol_version: string | null;
  s_last_seen_at: Date;
};

export type THandleRow = {
  id: string;
  accessor: string;
  token_hash: string;
  principal_id: string;
  server_id: string;
  session_id: string | null;
  policy_version: number;
  expires_at: Date;
  revoked_at: Date | null;
  status: string;
  status_message: string | null;
  effective_ttl_ms: number;
  upstream_task_id_enc: string;
  wire: "core_2025_11_25" | "ext_2026_07_28";
  api_key_id: string | null;
};

export type TPolicyRow = {
  version: number;
  require_session_binding: boolean;
  min_valid_version: number;
  allowed_operations: string[];
  poll_audit_level: string;
};

// Output column → SQL expression; the keys are also how a joined row is split into its parts.
const SESSION_FIELDS = {
  s_id: "s.id::text",
  s_principal_id: "s.principal_id::text",
  s_server_id: "s.server_id::text",
  s_ended_at: "s.ended_at",
  s_upstream_session_enc: "s.upstream_session_enc",
  s_protocol_version: "s.protocol_version",
  s_last_seen_at: "s.last_seen_at",
} satisfies Record<keyof TSessionRow, string>;
const HANDLE_FIELDS = {
  id: "h.id::text",
  accessor: "h.accessor",
  token_hash: "h.token_hash",
  principal_id: "h.principal_id::text",
  server_id: "h.server_id::text",
  session_id: "h.session_id::text",
  policy_version: "h.policy_version",
  expires_at: "h.expires_at",
  revoked_at: "h.revoked_at",
  status: "h.status::text",
  status_message: "h.status_message",
  effective_ttl_ms: "h.effective_ttl_ms",
  upstream_task_id_enc: "h.upstream_task_id_enc",
  wire: "h.wire::text",
  api_key_id: "h.api_key_id::text",
} satisfies Record<keyof THandleRow, string>;
const POLICY_FIELDS = {
  version: "p.version",
  require_session_binding: "p.require_session_binding",
  min_valid_version: "p.min_valid_version",
  allowed_operations: "p.allowed_operations",
  poll_audit_level: "p.poll_audit_level::text",
} satisfies Record<keyof TPolicyRow, string>;

const columns = (fields: Record<string, string>, prefix = "") => Object.entries(fields).map(([name, sql]) => `${sql} AS ${prefix}${name}`).join(", ");
const SELECT_SQL = `SELECT ${columns(POLICY_FIELDS, "p_")}, ${columns(SESSION_FIELDS)}, ${columns(HANDLE_FIELDS)}
   FROM (SELECT 1) one
   LEFT JOIN LATERAL (SELECT * FROM handle_policy ORDER BY version DESC LIMIT 1) p ON true
   LEFT JOIN gateway_session s ON s.session_hash = $1
   LEFT JOIN handle h ON h.token_hash = $2`;

export type TGatewayRows = { policy: TPolicyRow | null; session: TSessionRow | null; handle: THandleRow | null };

function part<T>(row: Record<string, unknown>, fields: Record<string, string>, prefix = ""): T {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) out[key] = row[prefix + key];
  return out as T;
}

/**
 * The policy in force and, when asked for, the session with this keyed hash and the handle with
 * this token hash (null when there is none). Nothing is cached for a row that does not exist.
 */
export async function loadGatewayRows(input: { sessionHash: string | null; tokenHash: string | null }): Promise<TGatewayRows> {
  const cache = gatewayCache();
  const policy = cache?.getPolicy<TPolicyRow>();
  const session = input.sessionHash === null ? null : cache?.get<TSessionRow>("session", input.sessionHash);
  const handle = input.tokenHash === null ? null : cache?.get<THandleRow>("handle", input.tokenHash);
  if (policy && session !== undefined && handle !== undefined) return { policy, session, handle };

  const epoch = cache?.readEpoch() ?? null;
  const { rows } = await getPool().query<Record<string, unknown>>(SELECT_SQL, [input.sessionHash, input.tokenHash]);
  const row = rows[0]!;
  const loaded: TGatewayRows = {
    // With no policy installed, no handle is honoured (judgeHandleRow).
    policy: row.p_version === null ? null : part<TPolicyRow>(row, POLICY_FIELDS, "p_"),
    session: row.s_id ? part<TSessionRow>(row, SESSION_FIELDS) : null,
    handle: row.id ? part<THandleRow>(row, HANDLE_FIELDS) : null,
  };
  if (cache) {
    if (loaded.policy) cache.setPolicy(loaded.policy, epoch);
    if (loaded.session && input.sessionHash) cache.set("session", input.sessionHash, loaded.session, { id: loaded.session.s_id, principalId: loaded.session.s_principal_id }, epoch);
    if (loaded.handle && input.tokenHash) cache.set("handle", input.tokenHash, loaded.handle, { id: loaded.handle.id, principalId: loaded.handle.principal_id }, epoch);
  }
  return loaded;
}
