import "server-only";
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
  const payload = AUDIT_PAYLOADS[event.action].parse(event.payload);
  const { actor } = event;
  await tx.auditEvent.create({
    data: {
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
    },
  });
}
