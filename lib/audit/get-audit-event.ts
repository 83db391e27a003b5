import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { Prisma } from "@/lib/db/generated/client";
import { AppError } from "@/lib/errors";
import { recordAuditEvent } from "./record-audit-event";
import { ZAuditEventId, type TAuditEventDto } from "./schemas";
import { selectAuditEvents } from "./select-audit-events";

/** One audit event with its chain link. Opening it is audited (`audit.viewed`) in the same transaction. */
export async function getAuditEvent(input: { actor: TActor; id: unknown }): Promise<TAuditEventDto> {
  assertCan(input.actor, "audit.read");
  const parsed = ZAuditEventId.safeParse(input.id);
  // A malformed id cannot name an event: the same answer as an unknown one.
  if (!parsed.success) throw notFound();
  const id = parsed.data;

  return getPrisma().$transaction(async (tx) => {
    const [event] = await selectAuditEvents(tx, [Prisma.sql`e.id = ${id}::uuid`], 1);
    if (!event) throw notFound();
    await recordAuditEvent(tx, {
      actor: input.actor,
      action: "audit.viewed",
      target: { type: "audit_event", id: event.id },
      payload: { eventId: event.id },
    });
    return event;
  });
}

function notFound(): AppError {
  return new AppError("NOT_FOUND", "No audit event has this id.");
}
