import "server-only";
import { randomUUID } from "node:crypto";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { Prisma } from "@/lib/db/generated/client";
import { getEnv } from "@/lib/env";
import { AppError, invalidInput } from "@/lib/errors";
import { whereSql } from "@/lib/handles/handle-filter-sql";
import { assertCanBulk } from "./bulk-rights";
import { bulkSetSql, fingerprintSql, resolveSelection, selectionDto } from "./bulk-selection";
import { loadBulkActionDto } from "./get-bulk-action";
import { computeBulkPreview, pinnedAsOf } from "./preview-bulk-action";
import { ZCreateBulkInput, type TBulkActionDto } from "./schemas";

/** Thrown inside the transaction so that it rolls back; turned into the 409 below. */
class SetChanged extends Error {}

/**
 * Step 2: the requester confirms the count the preview showed (and its fingerprint), with a
 * reason. In one transaction the set is computed again, pinned to the preview's moment, and frozen
 * as one bulk_action_item per handle, in processing order: execution acts on exactly these
 * handles, however the inventory changes meanwhile. If the set now has another size (or, with
 * the fingerprint, other handles) nothing is written and the answer is 409 "the set changed"
 * carrying a fresh preview (details.preview). A set larger than TETHER_BULK_APPROVAL_THRESHOLD
 * waits for a second reviewer or admin (approveBulkAction); a smaller one is approved at once and
 * the bulk worker starts it within a second. `bulk.requested` commits with the rows.
 */
export async function createBulkAction(input: { actor: TActor; data: unknown }): Promise<TBulkActionDto> {
  const { actor } = input;
  assertCanBulk(actor, "revoke");
  const parsed = ZCreateBulkInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { kind, reason, expectedCount, fingerprint } = parsed.data;
  assertCanBulk(actor, kind);
  // The job runs in the requester's name: a principal, with the role it had when it asked.
  if (actor.type === "system") throw new AppError("FORBIDDEN", "A bulk action is requested by a person or an agent.");
  const selection = resolveSelection(parsed.data.selection);
  const asOf = await pinnedAsOf(parsed.data.asOf);
  const threshold = getEnv().TETHER_BULK_APPROVAL_THRESHOLD;
  const id = randomUUID();

  try {
    await getPrisma().$transaction(
      async (tx) => {
        await tx.$executeRaw`
          INSERT INTO bulk_action (id, kind, status, selection, snapshot_at, expected_count, reason, requested_by_id, requested_by_role, request_id, needs_approval, updated_at)
          VALUES (${id}::uuid, ${kind}::"BulkActionKind", 'awaiting_approval', ${JSON.stringify(selectionDto(selection))}::jsonb, ${asOf.toISOString()}::timestamptz,
                  ${expectedCount}, ${reason}, ${actor.id}::uuid, ${actor.role}, ${actor.request.requestId}, false, now())`;
        const count = await tx.$executeRaw`
          INSERT INTO bulk_action_item (bulk_action_id, ordinal, handle_id, accessor)
          SELECT ${id}::uuid, (row_number() OVER (ORDER BY h.created_at, h.id))::int, h.id, h.accessor
            FROM handle h ${whereSql(bulkSetSql(kind, selection, asOf))}`;
        if (count !== expectedCount) throw new SetChanged();
        if (fingerprint !== undefined) {
          const [frozen] = await tx.$queryRaw<Array<{ fingerprint: string }>>`
            SELECT ${fingerprintSql(Prisma.sql`i.handle_id`)} AS fingerprint FROM bulk_action_item i WHERE i.bulk_action_id = ${id}::uuid`;
          if (frozen!.fingerprint !== fingerprint) throw new SetChanged();
        }
        if (count === 0) {
          throw new AppError("INVALID_INPUT", `No handle in this selection can be ${kind === "revoke" ? "revoked" : "cancelled"}: there is nothing to do.`, {
            issues: [{ path: "selection", message: "The selection holds no handle the action applies to." }],
          });
        }
        const needsApproval = count > threshold;
        await tx.$executeRaw`
          UPDATE bulk_action SET needs_approval = ${needsApproval}, status = ${needsApproval ? "awaiting_approval" : "approved"}::"BulkActionStatus"
           WHERE id = ${id}::uuid`;
        await recordAuditEvent(tx, {
          actor,
          action: "bulk.requested",
          target: { type: "bulk_action", id },
          reason,
          payload: { kind, selection: selectionDto(selection), count, asOf: asOf.toISOString(), needsApproval, threshold },
        });
      },
      // Freezing 100,000 handles takes a few seconds; Prisma's default limit is 5.
      { timeout: 120_000, maxWait: 10_000 },
    );
  } catch (err) {
    if (!(err instanceof SetChanged)) throw err;
    // What the reviewer must look at now: the set as it is (pinned to this moment).
    const preview = await computeBulkPreview(kind, selection, await pinnedAsOf(undefined));
    throw new AppError(
      "CONFLICT",
      preview.count === expectedCount
        ? `The set changed since the preview: it still has ${preview.count} handles, but not the same ones. Preview again.`
        : `The set changed since the preview: it now has ${preview.count} handle${preview.count === 1 ? "" : "s"}, not ${expectedCount}. Preview again.`,
      { details: { preview } },
    );
  }
  return loadBulkActionDto(id);
}
