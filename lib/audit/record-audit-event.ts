import "server-only";
import { randomUUID } from "node:crypto";
import type { TActor } from "@/lib/auth/actor";
import type { Prisma } from "@/lib/db/generated/client";
import type { TTx } from "@/lib/db/types";
import { AUDIT_PAYLOADS, type TAuditAction, type TAuditPayload } from "./events";

export type TAuditEventInput<A extends TAuditAction> = {
  actor: TActor;
  action: A;
  target?: { type: string; id: string };
  outcome?: "ok" | "denied" | "error";
  reason?: string;
  payload: TAuditPayload<A>;
};

/**
 * Records an audit event inside the transaction of the change it describes. It takes a
 * transaction on purpose: if this insert fails, the caller's change rolls back with it
 * (fail closed). An invalid payload is a programming error and also aborts the change.
 */
export async function recordAuditEvent<A extends TAuditAction>(tx: TTx, event: TAuditEventInput<A>): Promise<void> {
  await tx.auditEvent.create({ data: auditEventRow(event) });
}

/**
 * Records many events of one change (a chunk of a bulk revoke) in one INSERT, in the given order,
 * inside that change's transaction; each payload is checked exactly as recordAuditEvent checks it.
 * One statement over arrays: a thousand events cost a few milliseconds instead of the second
 * Prisma's createMany takes to build the same insert.
 */
export async function recordAuditEvents<A extends TAuditAction>(tx: TTx, events: ReadonlyArray<TAuditEventInput<A>>): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => auditEventRow(e));
  const col = <K extends keyof Prisma.AuditEventCreateManyInput>(key: K) => rows.map((r) => (r[key] ?? null) as string | null);
  await tx.$executeRaw`
    INSERT INTO audit_event (id, actor_type, actor_id, actor_role, action, target_type, target_id, outcome, reason, request_id, ip, user_agent, payload)
    SELECT v.id::uuid, v.actor_type::"ActorType", v.actor_id, v.actor_role, v.action, v.target_type, v.target_id, v.outcome::"AuditOutcome",
           v.reason, v.request_id, v.ip, v.user_agent, v.payload::jsonb
      FROM unnest(${rows.map(() => randomUUID())}::text[], ${col("actorType")}::text[], ${col("actorId")}::text[], ${col("actorRole")}::text[],
                  ${col("action")}::text[], ${col("targetType")}::text[], ${col("targetId")}::text[], ${col("outcome")}::text[], ${col("reason")}::text[],
                  ${col("requestId")}::text[], ${col("ip")}::text[], ${col("userAgent")}::text[], ${rows.map((r) => JSON.stringify(r.payload))}::text[])
           WITH ORDINALITY AS v(id, actor_type, actor_id, actor_role, action, target_type, target_id, outcome, reason, request_id, ip, user_agent, payload, n)
     ORDER BY v.n`;
}

function auditEventRow<A extends TAuditAction>(event: TAuditEventInput<A>): Prisma.AuditEventCreateManyInput {
  const payload = AUDIT_PAYLOADS[event.action].parse(event.payload);
  const { actor } = event;
  return {
    actorType: actor.type,
    actorId: actor.id,
    actorRole: actor.type === "system" ? null : actor.role,
    action: event.action,
    targetType: event.target?.type ?? null,
    targetId: event.target?.id ?? null,
    outcome: event.outcome ?? "ok",
    reason: event.reason ?? null,
    requestId: actor.request.requestId,
    ip: actor.request.ip ?? null,
    userAgent: actor.request.userAgent?.slice(0, 512) ?? null,
    // Parsed by a schema built from JSON-only types, so it is plain JSON.
    payload: payload as Prisma.InputJsonValue,
  };
}
