import "server-only";
import type { TTx } from "@/lib/db/types";
import { AppError } from "@/lib/errors";
import { bulkActionNotFound } from "./get-bulk-action";
import { BULK_STATUS_LABELS, type TBulkKind, type TBulkStatus } from "./schemas";

export type TLockedBulkAction = { id: string; kind: TBulkKind; status: TBulkStatus; requestedById: string; count: number; processed: number };

/** The bulk action's row under lock (a decision and the worker's chunks serialise on it), or 404. */
export async function lockBulkAction(tx: TTx, id: string): Promise<TLockedBulkAction> {
  const [row] = await tx.$queryRaw<TLockedBulkAction[]>`
    SELECT id::text AS id, kind::text AS kind, status::text AS status, requested_by_id::text AS "requestedById", expected_count AS count,
           done_count + skipped_count + failed_count AS processed
      FROM bulk_action WHERE id = ${id}::uuid FOR UPDATE`;
  if (!row) throw bulkActionNotFound();
  return row;
}

/** 409 naming the state the bulk action is in, for a decision that needs another. */
export function bulkStateConflict(status: TBulkStatus, wanted: string): AppError {
  return new AppError("INVALID_STATE", `This bulk action is ${BULK_STATUS_LABELS[status]}; ${wanted}.`, { details: { status } });
}
