// The typed audit event model: one entry per action with its payload schema. Payloads
// never hold secrets; a handle appears by its accessor, a secret value only as a keyed hash.
import { z } from "zod";
import { ROLES } from "@/lib/auth/permissions";

const ZRole = z.enum(ROLES);

export const AUDIT_PAYLOADS = {
  "auth.signed_in": z.object({ provider: z.string(), sessionId: z.string() }),
  "auth.sign_in_failed": z.object({
    provider: z.string(),
    // Which account was tried, as a keyed hash (the address may be a typo of a password).
    emailHash: z.string().optional(),
    cause: z.enum(["bad_credentials", "disabled", "rate_limited", "no_role", "invalid_input"]),
  }),
  "auth.signed_out": z.object({ sessionId: z.string() }),
  "auth.session_expired": z.object({ sessionId: z.string() }),
  "user.created": z.object({ email: z.string().nullable(), role: ZRole, kind: z.enum(["user", "service"]) }),
  "user.role_changed": z.object({ from: ZRole, to: ZRole }),
  "user.role_change_refused": z.object({ from: ZRole, to: ZRole }),
  "user.disabled": z.object({ endedSessions: z.number().int() }),
  "user.enabled": z.object({}),
  "user.password_set": z.object({}),
  "policy.changed": z.object({ version: z.number().int(), changes: z.record(z.string(), z.json()) }),
  // Compliance thresholds of a new policy version (handle settings unchanged): per control id, the
  // threshold before (and whether it was the policy's or the control's default) and after.
  "policy.thresholds_changed": z.object({
    version: z.number().int(),
    changes: z.record(
      z.string(),
      z.object({
        from: z.object({ target: z.number(), partial: z.number().nullable(), source: z.enum(["policy", "default"]) }),
        to: z.object({ target: z.number(), partial: z.number().nullable() }),
      }),
    ),
  }),
  // The server registry. Credentials never appear: `changes` names the fields that changed
  // ("credentials" for a new or removed token), never a value. `problem` is the class of a
  // failed connection check the admin chose to save anyway (the server is then saved disabled).
  "server.registered": z.object({
    slug: z.string(),
    url: z.string(),
    audience: z.string(),
    /** The kind of upstream credentials (none, bearer, oauth_client_credentials); never a value. */
    credentials: z.string().optional(),
    enabled: z.boolean().optional(),
    taskWires: z.array(z.string()).optional(),
    problem: z.string().nullable().optional(),
  }),
  "server.updated": z.object({ slug: z.string(), changes: z.array(z.string()), problem: z.string().nullable() }),
  "server.enabled": z.object({ slug: z.string(), problem: z.string().nullable() }),
  "server.disabled": z.object({ slug: z.string(), liveHandles: z.number().int() }),
  "server.removed": z.object({
    slug: z.string(),
    liveHandles: z.number().int(),
    handling: z.enum(["revoke_all", "keep_orphans"]),
    revokedHandles: z.number().int(),
  }),
  // The status-sync worker stops or resumes polling this server (the gateway keeps serving it).
  "server.polling_paused": z.object({ slug: z.string() }),
  "server.polling_resumed": z.object({ slug: z.string() }),
  // A health check moved the server to another status (actor system).
  "server.health_changed": z.object({
    slug: z.string(),
    from: z.enum(["unknown", "up", "degraded", "down"]),
    to: z.enum(["unknown", "up", "degraded", "down"]),
    latencyMs: z.number().int().nullable(),
    error: z.string().nullable(),
  }),
  "api_key.created": z.object({ prefix: z.string(), principalId: z.string(), expiresAt: z.string().nullable() }),
  // The key appears by its public prefix only; its live task handles are revoked with it.
  "api_key.revoked": z.object({ prefix: z.string(), principalId: z.string(), revokedHandles: z.number().int() }),
  // Disabling an agent keeps its API keys (re-enabling restores them), but authentication
  // refuses every key of a disabled principal; activeKeys says how many keys that silenced.
  // Its gateway sessions end and its live handles are revoked with it (trigger principal_disabled).
  "service_account.disabled": z.object({
    activeKeys: z.number().int(),
    keysRevoked: z.literal(false),
    endedGatewaySessions: z.number().int().optional(),
    revokedHandles: z.number().int().optional(),
  }),
  "service_account.enabled": z.object({ activeKeys: z.number().int() }),
  "handle.revoked": z.object({
    accessor: z.string(),
    trigger: z.enum(["manual", "session_ended", "principal_disabled", "api_key_revoked", "policy_tightened", "cancel", "server_removed", "bulk"]),
    serverId: z.string(),
    /** The bulk action that revoked it (trigger bulk, or cancel when a bulk cancel did). */
    bulkActionId: z.string().optional(),
  }),
  // The handle lifecycle at the gateway. A handle is named by its accessor only; the token and
  // the upstream task id never appear in an event.
  "handle.issued": z.object({
    accessor: z.string(),
    serverId: z.string(),
    sessionId: z.string().nullable(),
    toolName: z.string(),
    wire: z.enum(["core_2025_11_25", "ext_2026_07_28"]),
    policyVersion: z.number().int(),
    requestedTtlMs: z.number().int().nullable(),
    upstreamTtlMs: z.number().int().nullable(),
    effectiveTtlMs: z.number().int(),
  }),
  "handle.denied": z.object({
    // Present when the presented token matched a handle; a token that matches nothing is
    // recorded only by its keyed hash.
    accessor: z.string().nullable(),
    tokenHash: z.string().optional(),
    operation: z.string(),
    cause: z.enum(["unknown", "revoked", "expired", "principal_mismatch", "session_mismatch", "audience_mismatch", "credential_mismatch", "wire_mismatch", "policy_invalidated", "operation_not_allowed", "rate_limited"]),
  }),
  // source "cancel": the answer to a cancel Tether sent itself (console or REST), or its retry.
  "handle.status_changed": z.object({ accessor: z.string(), from: z.string(), to: z.string(), statusMessage: z.string().nullable(), source: z.enum(["gateway", "poller", "cancel"]) }),
  "handle.result_fetched": z.object({ accessor: z.string(), status: z.string() }),
  "handle.cancel_requested": z.object({ accessor: z.string(), via: z.enum(["agent", "console"]), bulkActionId: z.string().optional() }),
  // What the upstream made of a cancel, recorded separately from the request. A console cancel
  // (via "console") that found the upstream unreachable names when it is retried (null: given up).
  "handle.cancel_outcome": z.object({
    accessor: z.string(),
    outcome: z.enum(["confirmed", "already_terminal", "not_supported", "unreachable"]),
    attempt: z.number().int(),
    via: z.enum(["agent", "console"]).optional(),
    nextAttemptAt: z.string().nullable().optional(),
  }),
  "handle.expired": z.object({ accessor: z.string(), expiredAt: z.string() }),
  // A plain poll, recorded only when the policy audits every poll.
  "handle.polled": z.object({ accessor: z.string(), operation: z.string(), status: z.string() }),
  // The upstream reported something impossible (a terminal task working again); the handle keeps its state.
  "handle.upstream_violation": z.object({ accessor: z.string(), from: z.string(), to: z.string() }),
  // The upstream created a task but Tether refused to mint a handle for it; the upstream task is cancelled.
  "handle.mint_refused": z.object({
    serverId: z.string(),
    toolName: z.string(),
    cause: z.enum(["live_handle_cap", "session_ended", "credentials_revoked", "principal_disabled", "server_unavailable"]),
    upstreamCancel: z.enum(["requested", "failed"]),
  }),
  "gateway.session_started": z.object({ sessionId: z.string(), serverId: z.string(), protocolVersion: z.string().nullable(), clientName: z.string().nullable(), upstreamStateful: z.boolean() }),
  "gateway.session_ended": z.object({
    sessionId: z.string(),
    serverId: z.string(),
    cause: z.enum(["client_ended", "upstream_session_lost", "principal_disabled", "credentials_revoked"]),
    revokedHandles: z.number().int(),
  }),
  "gateway.tasks_listed": z.object({ serverId: z.string(), sessionId: z.string(), count: z.number().int() }),
  // Many unknown-task answers to one principal: somebody may be guessing tokens.
  "gateway.enumeration_suspected": z.object({ serverId: z.string(), unknownAnswers: z.number().int(), windowSeconds: z.number().int() }),
  "gateway.rate_limited": z.object({ serverId: z.string(), operation: z.string(), limitPerMinute: z.number().int() }),
  // The upstream failed a call (unreachable, timed out, garbage); the agent got a JSON-RPC error.
  "gateway.upstream_error": z.object({ serverId: z.string(), method: z.string(), detail: z.string(), accessor: z.string().nullable() }),
  "audit.verified": z.object({
    ok: z.boolean(),
    events: z.number().int(),
    checkpoints: z.number().int(),
    lastPosition: z.string().nullable(),
    failure: z.object({ position: z.string(), reason: z.string(), detail: z.string() }).nullable(),
  }),
  "audit.exported": z.object({
    format: z.enum(["ndjson", "csv"]),
    from: z.string().nullable(),
    to: z.string().nullable(),
    firstPosition: z.string().nullable(),
    lastPosition: z.string().nullable(),
  }),
  "system.started": z.object({ version: z.string(), mode: z.enum(["embedded", "external"]) }),
  // Reads of the audit trail are audited too. The filter is stored normalised and without
  // its cursor; a refHash in it is a keyed hash already, never the value it was made from.
  "audit.searched": z.object({
    filter: z.object({
      from: z.string().optional(),
      to: z.string().optional(),
      actorId: z.string().optional(),
      actorType: z.array(z.string()).optional(),
      action: z.array(z.string()).optional(),
      targetType: z.string().optional(),
      targetId: z.string().optional(),
      outcome: z.array(z.string()).optional(),
      requestId: z.string().optional(),
      refHash: z.string().optional(),
      limit: z.number().int(),
    }),
    resultCount: z.number().int(),
  }),
  "audit.viewed": z.object({ eventId: z.string() }),
  // Neither the value nor its hash: only that an admin hashed some value of this kind.
  "audit.reference_hashed": z.object({ kind: z.enum(["email", "token", "api-key", "value"]) }),
  // A policy change lowered the maximum TTL: the handle's expiry moved from → to (ISO timestamps).
  "handle.ttl_clamped": z.object({ accessor: z.string(), from: z.string(), to: z.string() }),
  // The inventory: a CSV export of a filter (the normalised filter without cursor or page size,
  // and how many handles matched it when the export started), and saved views (query strings of
  // /handles; they hold filters only, never a secret).
  "handles.exported": z.object({ format: z.literal("csv"), filter: z.record(z.string(), z.json()), rowCount: z.number().int(), asOf: z.string() }),
  "view.saved": z.object({ viewId: z.string(), name: z.string(), query: z.string(), replaced: z.boolean() }),
  "view.deleted": z.object({ viewId: z.string(), name: z.string() }),
  // Compliance reports (lib/compliance). A report is named by its id; its content hash and the
  // signed audit checkpoint it was computed from tie the event to what the auditor downloads.
  "report.requested": z.object({ reportId: z.string(), periodStart: z.string(), periodEnd: z.string(), periodLabel: z.string(), regeneratedFromId: z.string().nullable() }),
  "report.generated": z.object({
    reportId: z.string(),
    periodStart: z.string(),
    periodEnd: z.string(),
    contentSha256: z.string(),
    checkpointPosition: z.string(),
    checkpointHash: z.string(),
    summary: z.object({ pass: z.number().int(), fail: z.number().int(), partial: z.number().int(), notMeasurable: z.number().int() }),
  }),
  "report.failed": z.object({ reportId: z.string(), attempts: z.number().int(), error: z.string() }),
  "report.viewed": z.object({ reportId: z.string() }),
  "report.exported": z.object({ reportId: z.string(), format: z.enum(["json", "csv", "oscal", "html"]), contentSha256: z.string() }),
  // Bulk revoke / cancel (lib/bulk). The target is the bulk action; each handle it revokes or
  // cancels gets its own handle.revoked / handle.cancel_requested naming it. `selection` is the
  // normalised inventory filter or the number of accessors chosen, never a secret.
  "bulk.requested": z.object({
    kind: z.enum(["revoke", "cancel"]),
    selection: z.object({ type: z.enum(["filter", "accessors"]), filter: z.record(z.string(), z.json()).optional(), accessors: z.number().int().optional() }),
    count: z.number().int(),
    asOf: z.string(),
    needsApproval: z.boolean(),
    threshold: z.number().int(),
  }),
  "bulk.approved": z.object({ kind: z.enum(["revoke", "cancel"]), count: z.number().int(), requestedBy: z.string() }),
  "bulk.rejected": z.object({ kind: z.enum(["revoke", "cancel"]), count: z.number().int(), requestedBy: z.string() }),
  "bulk.cancelled": z.object({ kind: z.enum(["revoke", "cancel"]), count: z.number().int(), processed: z.number().int(), from: z.string() }),
  "bulk.started": z.object({ kind: z.enum(["revoke", "cancel"]), count: z.number().int() }),
  "bulk.completed": z.object({
    kind: z.enum(["revoke", "cancel"]),
    count: z.number().int(),
    done: z.number().int(),
    skipped: z.number().int(),
    failed: z.number().int(),
    elapsedMs: z.number().int(),
  }),
  "bulk.failed": z.object({ kind: z.enum(["revoke", "cancel"]), count: z.number().int(), processed: z.number().int(), error: z.string() }),
} as const;

export type TAuditAction = keyof typeof AUDIT_PAYLOADS;
export type TAuditPayload<A extends TAuditAction> = z.infer<(typeof AUDIT_PAYLOADS)[A]>;

export const AUDIT_ACTIONS = Object.keys(AUDIT_PAYLOADS) as TAuditAction[];
