import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { invalidInput } from "@/lib/errors";
import { ZHandleTimelineDto, ZHandleTimelineQuery, type THandleTimelineDto } from "./handle-detail-schemas";
import { handleNotFound } from "./get-handle";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A handle's history from the audit trail, oldest first: issued, each status change, results
 * fetched, denials with their cause, cancel requests and outcomes, revocation with actor and
 * reason, expiry. Every event about a handle names it as its target, so one index range
 * (target_type, target_id, seq) serves each page; pages continue after the `after` sequence
 * number. Payloads hold no secrets by construction (lib/audit/events.ts).
 */
export async function listHandleTimeline(input: { actor: TActor; query: unknown }): Promise<THandleTimelineDto> {
  assertCan(input.actor, "handles.read");
  const parsed = ZHandleTimelineQuery.safeParse(input.query);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { accessor, after, limit } = parsed.data;
  const db = getPrisma();
  const handle = await db.handle.findUnique({ where: { accessor }, select: { id: true } });
  if (!handle) throw handleNotFound();
  const rows = await db.auditEvent.findMany({
    where: { targetType: "handle", targetId: handle.id, ...(after ? { seq: { gt: BigInt(after) } } : {}) },
    orderBy: { seq: "asc" },
    take: limit + 1,
    select: { seq: true, id: true, occurredAt: true, actorType: true, actorId: true, actorRole: true, action: true, outcome: true, reason: true, requestId: true, payload: true },
  });
  const page = rows.slice(0, limit);
  const principalIds = [...new Set(page.map((r) => r.actorId).filter((id): id is string => id !== null && UUID.test(id)))];
  const names = new Map(
    principalIds.length ? (await db.principal.findMany({ where: { id: { in: principalIds } }, select: { id: true, name: true } })).map((p) => [p.id, p.name]) : [],
  );
  return ZHandleTimelineDto.parse({
    events: page.map((r) => ({
      seq: r.seq.toString(),
      id: r.id,
      occurredAt: r.occurredAt,
      action: r.action,
      actor: {
        type: r.actorType,
        id: r.actorId,
        name: r.actorType === "system" ? "Tether" : (names.get(r.actorId ?? "") ?? "unknown principal"),
        role: r.actorRole,
      },
      outcome: r.outcome,
      reason: r.reason,
      requestId: r.requestId,
      payload: r.payload && typeof r.payload === "object" && !Array.isArray(r.payload) ? r.payload : {},
    })),
    nextCursor: rows.length > limit ? page.at(-1)!.seq.toString() : null,
  });
}
