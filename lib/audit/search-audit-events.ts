import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { Prisma } from "@/lib/db/generated/client";
import { recordAuditEvent } from "./record-audit-event";
import { decodeAuditCursor, encodeAuditCursor, normaliseAuditFilter, parseAuditFilter, type TAuditEventDto, type TAuditFilter } from "./schemas";
import { selectAuditEvents } from "./select-audit-events";

export type TAuditSearchResult = { events: TAuditEventDto[]; nextCursor: string | null };

/**
 * One page of the audit trail, newest first, filtered and paginated in the database (keyset on
 * seq, so pages stay stable while new events arrive). The time range includes both ends,
 * from ≤ occurredAt ≤ to, as the export does. The read is itself audited (`audit.searched`)
 * in the same transaction as the query: if that record cannot be written, nothing is returned.
 *
 * `filter` is query input ({ action: "auth.signed_in", limit: "20", ... }; see ZAuditFilter),
 * parsed strictly: INVALID_INPUT (422) for any malformed field, a malformed cursor included.
 * Pages clean their query with parseAuditFilterLenient first and pass the cleaned form.
 */
export async function searchAuditEvents(input: { actor: TActor; filter: unknown }): Promise<TAuditSearchResult> {
  assertCan(input.actor, "audit.read");
  const filter = parseAuditFilter(input.filter ?? {});
  const where = conditionsOf(filter);

  return getPrisma().$transaction(async (tx) => {
    // One extra row tells whether an older page exists without a count over the whole range.
    const rows = await selectAuditEvents(tx, where, filter.limit + 1);
    const events = rows.slice(0, filter.limit);
    const nextCursor = rows.length > filter.limit ? encodeAuditCursor(events[events.length - 1]!.seq) : null;
    await recordAuditEvent(tx, {
      actor: input.actor,
      action: "audit.searched",
      payload: { filter: normaliseAuditFilter(filter), resultCount: events.length },
    });
    return { events, nextCursor };
  });
}

function conditionsOf(f: TAuditFilter): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  if (f.from) where.push(Prisma.sql`e.occurred_at >= ${f.from.toISOString()}::timestamptz`);
  if (f.to) where.push(Prisma.sql`e.occurred_at <= ${f.to.toISOString()}::timestamptz`);
  if (f.actorId) where.push(Prisma.sql`e.actor_id = ${f.actorId}`);
  if (f.actorType?.length) where.push(Prisma.sql`e.actor_type::text IN (${Prisma.join(f.actorType)})`);
  if (f.action?.length) where.push(Prisma.sql`e.action IN (${Prisma.join(f.action)})`);
  if (f.targetType) where.push(Prisma.sql`e.target_type = ${f.targetType}`);
  if (f.targetId) where.push(Prisma.sql`e.target_id = ${f.targetId}`);
  if (f.outcome?.length) where.push(Prisma.sql`e.outcome::text IN (${Prisma.join(f.outcome)})`);
  if (f.requestId) where.push(Prisma.sql`e.request_id = ${f.requestId}`);
  if (f.refHash) {
    // Any string anywhere in the payload equal to the hash; the hash is a bound jsonpath
    // variable, never spliced into the path text.
    where.push(Prisma.sql`jsonb_path_exists(e.payload, '$.** ? (@ == $h)', jsonb_build_object('h', ${f.refHash}::text))`);
  }
  if (f.cursor) {
    // The schema has refused malformed cursors already, so this decodes.
    where.push(Prisma.sql`e.seq < ${decodeAuditCursor(f.cursor)!}::bigint`);
  }
  return where;
}
