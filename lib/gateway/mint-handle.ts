import "server-only";
import { randomUUID } from "node:crypto";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { encryptSecret } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import type { TTx } from "@/lib/db/types";
import { scrubStatusMessage } from "@/lib/handles/apply-observed-status";
import { getCurrentPolicy } from "@/lib/policy/get-current-policy";
import { lockPolicyShared } from "@/lib/policy/lock-policy";
import { encryptHandleToken, handleTokenHash, newAccessor, newHandleToken, upstreamTaskContext, upstreamTaskIdHash } from "./handle-token";
import { effectiveTtl, storedMs, type TUpstreamTask } from "./task-shape";
import type { TTaskWire } from "./task-wire";

export type TMintRefusal = "live_handle_cap" | "session_ended" | "credentials_revoked" | "principal_disabled" | "server_unavailable";

export class MintRefusedError extends Error {
  constructor(
    readonly refusal: TMintRefusal,
    message: string,
  ) {
    super(message);
    this.name = "MintRefusedError";
  }
}

export type TMintedHandle = { id: string; accessor: string; token: string; effectiveTtlMs: number; expiresAt: Date; policyVersion: number };

async function lockPrincipalMints(tx: TTx, principalId: string): Promise<void> {
  // Serialises count-then-insert per principal, so concurrent mints cannot overshoot the cap.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('tether:mint:' || ${principalId}))`;
}

export function liveHandleCapMessage(live: number, cap: number): string {
  return `Task handle limit reached: this agent holds ${live} live task handles and the policy allows ${cap}. Let some finish and expire, or ask an administrator to revoke them or raise the limit.`;
}

/**
 * Mints the handle for a task the upstream has just created, in one transaction with its
 * `handle.issued` event. Under the shared policy lock the recorded policy version stays current
 * until commit; the principal, the session, the API key and the server are read FOR SHARE, so a concurrent
 * context change (which updates those rows, then revokes their handles) either sees this handle
 * or makes this mint see the change. Throws MintRefusedError when the handle must not exist; the
 * caller then cancels the upstream task.
 */
export async function mintHandle(input: {
  actor: TActor;
  serverId: string;
  audience: string;
  /** The gateway session the task was created in; null on the session-less 2026-07-28 wire. */
  sessionId: string | null;
  wire: TTaskWire;
  toolName: string;
  upstreamTask: TUpstreamTask;
  requestedTtlMs: number | null;
}): Promise<TMintedHandle> {
  const { actor, upstreamTask } = input;
  if (actor.type !== "service") throw new MintRefusedError("principal_disabled", "Only agents hold task handles.");
  return getPrisma().$transaction(async (tx) => {
    await lockPolicyShared(tx);
    const policy = await getCurrentPolicy({ db: tx });
    const [context] = await tx.$queryRaw<Array<{ disabled: boolean; ended: boolean | null; keyUsable: boolean | null; serverUsable: boolean | null }>>`
      SELECT (SELECT disabled_at IS NOT NULL FROM principal WHERE id = ${actor.id}::uuid FOR SHARE) AS disabled,
             (SELECT enabled AND removed_at IS NULL FROM mcp_server WHERE id = ${input.serverId}::uuid FOR SHARE) AS "serverUsable",
             (SELECT ended_at IS NOT NULL FROM gateway_session WHERE id = ${input.sessionId}::uuid FOR SHARE) AS ended,
             (SELECT revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) FROM api_key WHERE id = ${actor.apiKeyId ?? null}::uuid FOR SHARE) AS "keyUsable"`;
    if (!context || context.disabled) throw new MintRefusedError("principal_disabled", "This agent has been disabled.");
    if (input.sessionId !== null && context.ended !== false) throw new MintRefusedError("session_ended", "The gateway session has ended.");
    if (actor.apiKeyId && context.keyUsable !== true) throw new MintRefusedError("credentials_revoked", "The API key has been revoked.");
    if (context.serverUsable !== true) throw new MintRefusedError("server_unavailable", "The server has been disabled or removed.");

    await lockPrincipalMints(tx, actor.id);
    const live = await tx.handle.count({ where: { principalId: actor.id, revokedAt: null, expiresAt: { gt: new Date() } } });
    if (live >= policy.maxLiveHandlesPerPrincipal) throw new MintRefusedError("live_handle_cap", liveHandleCapMessage(live, policy.maxLiveHandlesPerPrincipal));

    const upstreamTtlMs = storedMs(upstreamTask.ttl);
    const requestedTtlMs = storedMs(input.requestedTtlMs);
    const ttl = effectiveTtl({ requestedMs: requestedTtlMs, upstreamMs: upstreamTtlMs, defaultMs: policy.defaultTtlMs, maxMs: policy.maxTtlMs });
    const id = randomUUID();
    const token = newHandleToken();
    const accessor = newAccessor();
    const createdAt = new Date();
    const expiresAt = new Date(createdAt.getTime() + ttl);
    await tx.handle.create({
      data: {
        id,
        accessor,
        tokenHash: handleTokenHash(token),
        tokenEnc: encryptHandleToken(id, token),
        upstreamTaskIdEnc: encryptSecret(upstreamTask.taskId, upstreamTaskContext(id)),
        upstreamTaskIdHash: upstreamTaskIdHash(input.serverId, upstreamTask.taskId),
        wire: input.wire,
        serverId: input.serverId,
        principalId: actor.id,
        sessionId: input.sessionId,
        apiKeyId: actor.apiKeyId ?? null,
        audience: input.audience,
        toolName: input.toolName.slice(0, 256),
        policyVersion: policy.version,
        requestedTtlMs,
        upstreamTtlMs,
        effectiveTtlMs: ttl,
        status: upstreamTask.status,
        statusMessage: scrubStatusMessage(upstreamTask.statusMessage, upstreamTask.taskId, accessor),
        pollIntervalMs: storedMs(upstreamTask.pollInterval),
        createdAt,
        expiresAt,
        lastUpdatedAt: createdAt,
      },
    });
    await recordAuditEvent(tx, {
      actor,
      action: "handle.issued",
      target: { type: "handle", id },
      payload: {
        accessor,
        serverId: input.serverId,
        sessionId: input.sessionId,
        toolName: input.toolName.slice(0, 256),
        wire: input.wire,
        policyVersion: policy.version,
        requestedTtlMs,
        upstreamTtlMs,
        effectiveTtlMs: ttl,
      },
    });
    return { id, accessor, token, effectiveTtlMs: ttl, expiresAt, policyVersion: policy.version };
  });
}

/** Before forwarding a task-augmented call: refuse early when the agent is already at its cap. */
export async function countLiveHandles(principalId: string): Promise<number> {
  return getPrisma().handle.count({ where: { principalId, revokedAt: null, expiresAt: { gt: new Date() } } });
}
