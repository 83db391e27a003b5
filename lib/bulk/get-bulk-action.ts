import "server-only";
import { z } from "zod";
import type { TActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { Prisma } from "@/lib/db/generated/client";
import { AppError } from "@/lib/errors";
import { assertCanBulk } from "./bulk-rights";
import { ZBulkActionDto, ZBulkListItem, type TBulkActionDto } from "./schemas";

export function bulkActionNotFound(): AppError {
  return new AppError("NOT_FOUND", "No such bulk action.");
}

/** A bulk action id from a URL or body: malformed is a 422 that names the field. */
export function parseBulkActionId(id: unknown): string {
  const parsed = z.uuid().safeParse(id);
  if (!parsed.success) throw new AppError("INVALID_INPUT", "Not a bulk action id.", { issues: [{ path: "id", message: "Not a bulk action id." }] });
  return parsed.data.toLowerCase();
}

/**
 * One bulk action with its progress (handles done, skipped, failed of the total) and its items
 * counted by result, which is the final summary once it has finished. Every bulk action is visible
 * to everyone who may run one (handles.bulk_revoke: reviewers and admins): they approve each
 * other's. The items themselves page through listBulkActionItems.
 */
export async function getBulkAction(input: { actor: TActor; id: unknown }): Promise<TBulkActionDto> {
  assertCanBulk(input.actor, "revoke");
  return loadBulkActionDto(parseBulkActionId(input.id));
}

type TRow = {
  id: string;
  kind: "revoke" | "cancel";
  status: TBulkActionDto["status"];
  reason: string;
  selection: unknown;
  snapshotAt: Date;
  count: number;
  needsApproval: boolean;
  requestedById: string;
  requestedByName: string;
  requestedAt: Date;
  approvedById: string | null;
  approvedByName: string | null;
  approvedAt: Date | null;
  closedById: string | null;
  closedByName: string | null;
  closedAt: Date | null;
  closeReason: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  done: number;
  skipped: number;
  failed: number;
  failures: number;
};

/** The columns of a bulk action as its DTO wants them (never the lease or the last error's text). */
export const BULK_ACTION_SELECT = Prisma.sql`
  SELECT b.id::text AS id, b.kind::text AS kind, b.status::text AS status, b.reason, b.selection, b.snapshot_at AS "snapshotAt",
         b.expected_count AS count, b.needs_approval AS "needsApproval",
         b.requested_by_id::text AS "requestedById", rq.name AS "requestedByName", b.requested_at AS "requestedAt",
         b.approved_by_id::text AS "approvedById", ap.name AS "approvedByName", b.approved_at AS "approvedAt",
         b.closed_by_id::text AS "closedById", cl.name AS "closedByName", b.closed_at AS "closedAt", b.close_reason AS "closeReason",
         b.started_at AS "startedAt", b.finished_at AS "finishedAt",
         b.done_count AS done, b.skipped_count AS skipped, b.failed_count AS failed, b.failures
    FROM bulk_action b
    JOIN principal rq ON rq.id = b.requested_by_id
    LEFT JOIN principal ap ON ap.id = b.approved_by_id
    LEFT JOIN principal cl ON cl.id = b.closed_by_id`;

const iso = (d: Date | null) => d?.toISOString() ?? null;
const person = (id: string | null, name: string | null) => (id ? { id, name: name ?? "" } : null);

/** A row of BULK_ACTION_SELECT as the DTO without its results. */
export function toBulkListItem(r: TRow) {
  return ZBulkListItem.parse({
    id: r.id,
    kind: r.kind,
    status: r.status,
    reason: r.reason,
    selection: r.selection,
    snapshotAt: r.snapshotAt.toISOString(),
    count: r.count,
    needsApproval: r.needsApproval,
    requestedBy: { id: r.requestedById, name: r.requestedByName },
    requestedAt: r.requestedAt.toISOString(),
    approvedBy: person(r.approvedById, r.approvedByName),
    approvedAt: iso(r.approvedAt),
    closedBy: person(r.closedById, r.closedByName),
    closedAt: iso(r.closedAt),
    closeReason: r.closeReason,
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    progress: { total: r.count, processed: r.done + r.skipped + r.failed, done: r.done, skipped: r.skipped, failed: r.failed, failures: r.failures },
  });
}
export type TBulkActionRow = TRow;

/** The DTO of a bulk action by id, without a permission check (callers have made theirs). */
export async function loadBulkActionDto(id: string): Promise<TBulkActionDto> {
  const db = getPrisma();
  const [[row], results] = await Promise.all([
    db.$queryRaw<TRow[]>`${BULK_ACTION_SELECT} WHERE b.id = ${id}::uuid`,
    db.$queryRaw<Array<{ result: string | null; cancelOutcome: string | null; count: number }>>`
      SELECT i.result::text AS result, i.cancel_outcome::text AS "cancelOutcome", count(*)::int AS count
        FROM bulk_action_item i WHERE i.bulk_action_id = ${id}::uuid
       GROUP BY i.result, i.cancel_outcome ORDER BY i.result NULLS LAST, i.cancel_outcome`,
  ]);
  if (!row) throw bulkActionNotFound();
  return ZBulkActionDto.parse({
    ...toBulkListItem(row),
    results: results.map((r) => ({ result: r.result ?? "pending", cancelOutcome: r.cancelOutcome, count: r.count })),
  });
}
