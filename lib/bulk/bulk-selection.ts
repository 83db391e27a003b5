import "server-only";
import type { z } from "zod";
import { Prisma } from "@/lib/db/generated/client";
import { normaliseHandleFilter, parseHandleFilter, toQueryRecord, type THandleFilter, type TQueryRecord } from "@/lib/handles/handle-filter-schema";
import { handleFilterConditions, LIVE_SQL } from "@/lib/handles/handle-filter-sql";
import type { TBulkKind, TBulkSelectionDto, ZBulkSelection } from "./schemas";

// The set a bulk action acts on, as SQL on `handle h`: what the selection names (the chosen
// accessors, or the inventory filter through the inventory's own SQL), narrowed to the handles
// the action applies to, pinned to handles created up to the preview's moment. The preview counts
// exactly this; the request freezes exactly this into bulk_action_item rows.

export type TResolvedSelection =
  | { type: "accessors"; accessors: string[] }
  | { type: "filter"; filter: Omit<THandleFilter, "cursor"> };

/** Parameters of the inventory's URL that say nothing about which handles: ignored here. */
const NOT_A_FILTER = ["cursor", "limit", "sort", "dir", "cols"];

/** The selection as checked input; a malformed filter is the inventory's BAD_REQUEST (400). */
export function resolveSelection(selection: z.output<typeof ZBulkSelection>): TResolvedSelection {
  if (selection.type === "accessors") return { type: "accessors", accessors: selection.accessors };
  const record: TQueryRecord =
    typeof selection.filter === "string"
      ? toQueryRecord(new URLSearchParams(selection.filter.replace(/^\?/, "")))
      : Object.fromEntries(Object.entries(selection.filter).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)]));
  for (const key of NOT_A_FILTER) delete record[key];
  const { cursor: _cursor, ...filter } = parseHandleFilter(record);
  return { type: "filter", filter };
}

/** What the bulk action and its audit event keep of the selection. */
export function selectionDto(selection: TResolvedSelection): TBulkSelectionDto {
  return selection.type === "accessors"
    ? { type: "accessors", accessors: selection.accessors.length }
    : { type: "filter", filter: normaliseHandleFilter(selection.filter) };
}

/** The handles the action applies to: live for a revoke; for a cancel, live with a task still running and no cancel in flight. */
export function applicableSql(kind: TBulkKind): Prisma.Sql {
  return kind === "revoke"
    ? LIVE_SQL
    : Prisma.sql`${LIVE_SQL} AND h.status IN ('working'::"TaskStatus", 'input_required'::"TaskStatus") AND h.cancel_state <> 'requested'::"CancelState"`;
}

/** The handles the selection names, created up to `asOf` (whether or not the action applies to them). */
export function selectedSql(selection: TResolvedSelection, asOf: Date): Prisma.Sql[] {
  const pinned = Prisma.sql`h.created_at <= ${asOf.toISOString()}::timestamptz`;
  if (selection.type === "accessors") return [Prisma.sql`h.accessor = ANY(${selection.accessors}::text[])`, pinned];
  return [...handleFilterConditions(selection.filter as THandleFilter), pinned];
}

/** selectedSql narrowed to applicableSql: exactly the set. */
export function bulkSetSql(kind: TBulkKind, selection: TResolvedSelection, asOf: Date): Prisma.Sql[] {
  return [...selectedSql(selection, asOf), applicableSql(kind)];
}

/**
 * Order-independent fingerprint of a set of handle ids: its size and the sum of a 64-bit hash of
 * each id. Change detection, not security: a reviewer's confirmed count must still describe the
 * same handles when the job is created.
 */
export function fingerprintSql(idColumn: Prisma.Sql = Prisma.sql`h.id`): Prisma.Sql {
  return Prisma.sql`(count(*)::text || ':' || COALESCE(sum(hashtextextended(${idColumn}::text, 0)), 0)::text)`;
}
