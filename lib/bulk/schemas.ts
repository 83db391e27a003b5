// Bulk revoke / cancel at its boundaries (console, REST API): the inputs, checked with zod, and
// the DTOs every answer is parsed through, so no secret column can ride along. Pure: the
// console's client components import the types and the helpers at the bottom.
import { z } from "zod";
import { HANDLE_CANCEL_STATES, HANDLE_STATUSES } from "@/lib/handles/handle-filter-schema";
import { ZAccessor } from "@/lib/handles/schemas";

export const BULK_KINDS = ["revoke", "cancel"] as const;
export type TBulkKind = (typeof BULK_KINDS)[number];
export const BULK_STATUSES = ["awaiting_approval", "approved", "running", "completed", "failed", "rejected", "cancelled"] as const;
export type TBulkStatus = (typeof BULK_STATUSES)[number];
export const BULK_ITEM_RESULTS = ["revoked", "already_revoked", "expired", "not_cancellable", "cancel_requested", "cancelled", "error"] as const;
export type TBulkItemResult = (typeof BULK_ITEM_RESULTS)[number];

/** At most this many explicitly chosen accessors (the inventory selects at most a page of 200). */
export const MAX_BULK_ACCESSORS = 1000;
export const BULK_SAMPLE_SIZE = 20;
export const BULK_BREAKDOWN_SIZE = 20;
export const BULK_ITEMS_PAGE = { default: 100, max: 500 } as const;

const ZKind = z.enum(BULK_KINDS, { error: "kind is revoke or cancel." });

const ZReason = z
  .string({ error: "Give a reason (at least 3 characters)." })
  .trim()
  .min(3, "Give a reason (at least 3 characters).")
  .max(500, "A reason has at most 500 characters.");

/**
 * Which handles: the accessors chosen in the inventory, or every handle matching an inventory
 * filter (its query string, or the same parameters as an object; cursor, page size, sort and
 * column choice are ignored). The filter itself is checked by the inventory's strict parser.
 */
export const ZBulkSelection = z.discriminatedUnion(
  "type",
  [
    z.strictObject({
      type: z.literal("accessors"),
      accessors: z
        .array(ZAccessor, { error: "accessors is a list of handle accessors (hdl_…)." })
        .min(1, "Choose at least one handle.")
        .max(MAX_BULK_ACCESSORS, `Choose at most ${MAX_BULK_ACCESSORS} handles, or use a filter.`)
        .transform((list) => [...new Set(list)]),
    }),
    z.strictObject({
      type: z.literal("filter"),
      filter: z.union([z.string().max(8000, "The filter is too long."), z.record(z.string(), z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))]))], {
        error: "filter is an inventory query string (owner=…&status=…) or an object of the same parameters.",
      }),
    }),
  ],
  { error: 'selection is {type: "accessors", accessors: [...]} or {type: "filter", filter: ...}.' },
);
export type TBulkSelectionInput = z.input<typeof ZBulkSelection>;

const ZAsOf = z.iso.datetime({ offset: true, error: "asOf is the ISO 8601 time the preview returned." }).transform((v) => new Date(v));

export const ZPreviewBulkInput = z.strictObject({ kind: ZKind, selection: ZBulkSelection, asOf: ZAsOf.optional() });

export const ZCreateBulkInput = z.strictObject({
  kind: ZKind,
  selection: ZBulkSelection,
  reason: ZReason,
  /** The count the requester was shown: execution refuses (409) when the set has another size now. */
  expectedCount: z.number({ error: "expectedCount is the number of handles the preview showed." }).int().min(0).max(10_000_000),
  /** The preview's fingerprint of the exact set; when given, a set of the same size but other handles is refused too. */
  fingerprint: z.string().regex(/^[0-9a-z:-]{1,80}$/, "fingerprint is the value the preview returned.").optional(),
  /** The preview's asOf: handles created after it are not part of the set. */
  asOf: ZAsOf.optional(),
});

export const ZBulkDecisionInput = z.strictObject({ id: z.uuid({ error: "Not a bulk action id." }) });
export const ZBulkCloseInput = z.strictObject({ id: z.uuid({ error: "Not a bulk action id." }), reason: ZReason });

export const ZBulkItemsQuery = z.strictObject({
  id: z.uuid({ error: "Not a bulk action id." }),
  after: z.coerce.number({ error: "after is the ordinal of the last item of the previous page." }).int().min(0).optional(),
  limit: z.coerce
    .number({ error: `limit is 1–${BULK_ITEMS_PAGE.max}.` })
    .int()
    .min(1, `limit is 1–${BULK_ITEMS_PAGE.max}.`)
    .max(BULK_ITEMS_PAGE.max, `limit is 1–${BULK_ITEMS_PAGE.max}.`)
    .default(BULK_ITEMS_PAGE.default),
  result: z.enum([...BULK_ITEM_RESULTS, "pending"], { error: `result is one of ${[...BULK_ITEM_RESULTS, "pending"].join(", ")}.` }).optional(),
});

export const ZBulkListQuery = z.strictObject({
  status: z.enum(BULK_STATUSES, { error: `status is one of ${BULK_STATUSES.join(", ")}.` }).optional(),
  limit: z.coerce.number({ error: "limit is 1–200." }).int().min(1, "limit is 1–200.").max(200, "limit is 1–200.").default(50),
  before: z.string().regex(/^[0-9A-Za-z_-]{1,200}$/, "before is the cursor of the previous page.").optional(),
});

// ---- answers ---------------------------------------------------------------------------------

const ZIso = z.iso.datetime();

export const ZBulkSelectionDto = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("accessors"), accessors: z.number().int() }),
  z.strictObject({ type: z.literal("filter"), filter: z.record(z.string(), z.json()) }),
]);
export type TBulkSelectionDto = z.infer<typeof ZBulkSelectionDto>;

export const ZBulkPreview = z.strictObject({
  kind: ZKind,
  /** Exactly the handles execution will act on (those the action applies to: live ones; for cancel, live with a running task). */
  count: z.number().int(),
  /** Changes whenever the set does; pass it back with the count to execute. */
  fingerprint: z.string(),
  /** The set is pinned to handles created up to this moment. */
  asOf: ZIso,
  /** Handles the selection names (or the filter matches) that the action does not apply to (already revoked, expired, ended, unknown). */
  notApplicable: z.number().int(),
  sample: z.array(
    z.strictObject({
      accessor: z.string(),
      server: z.string(),
      owner: z.string(),
      toolName: z.string(),
      status: z.enum(HANDLE_STATUSES),
      createdAt: ZIso,
      expiresAt: ZIso,
    }),
  ),
  byServer: z.array(z.strictObject({ id: z.string(), slug: z.string(), name: z.string(), count: z.number().int() })),
  byOwner: z.array(z.strictObject({ id: z.string(), name: z.string(), kind: z.enum(["user", "service", "system"]), count: z.number().int() })),
  /** More servers / owners than listed (the largest are). */
  moreServers: z.number().int(),
  moreOwners: z.number().int(),
  needsApproval: z.boolean(),
  approvalThreshold: z.number().int(),
  selection: ZBulkSelectionDto,
});
export type TBulkPreview = z.infer<typeof ZBulkPreview>;

const ZPerson = z.strictObject({ id: z.string(), name: z.string() });

export const ZBulkActionDto = z.strictObject({
  id: z.string(),
  kind: ZKind,
  status: z.enum(BULK_STATUSES),
  reason: z.string(),
  selection: ZBulkSelectionDto,
  snapshotAt: ZIso,
  count: z.number().int(),
  needsApproval: z.boolean(),
  requestedBy: ZPerson,
  requestedAt: ZIso,
  approvedBy: ZPerson.nullable(),
  approvedAt: ZIso.nullable(),
  /** Who rejected or cancelled it, and why. */
  closedBy: ZPerson.nullable(),
  closedAt: ZIso.nullable(),
  closeReason: z.string().nullable(),
  startedAt: ZIso.nullable(),
  finishedAt: ZIso.nullable(),
  progress: z.strictObject({
    total: z.number().int(),
    processed: z.number().int(),
    done: z.number().int(),
    skipped: z.number().int(),
    failed: z.number().int(),
    /** Chunks that failed in a row (retried; the job fails after a few). */
    failures: z.number().int(),
  }),
  /** Items by result (and, for cancels, by the upstream's answer); pending ones are not processed yet. */
  results: z.array(z.strictObject({ result: z.enum([...BULK_ITEM_RESULTS, "pending"]), cancelOutcome: z.enum(HANDLE_CANCEL_STATES).nullable(), count: z.number().int() })),
});
export type TBulkActionDto = z.infer<typeof ZBulkActionDto>;

export const ZBulkItemsPage = z.strictObject({
  items: z.array(
    z.strictObject({
      ordinal: z.number().int(),
      accessor: z.string(),
      result: z.enum(BULK_ITEM_RESULTS).nullable(),
      cancelOutcome: z.enum(HANDLE_CANCEL_STATES).nullable(),
      detail: z.string().nullable(),
      processedAt: ZIso.nullable(),
    }),
  ),
  /** Pass as `after` for the next page; null on the last. */
  nextCursor: z.number().int().nullable(),
});
export type TBulkItemsPage = z.infer<typeof ZBulkItemsPage>;

export const ZBulkListItem = ZBulkActionDto.omit({ results: true });
export const ZBulkList = z.strictObject({ data: z.array(ZBulkListItem), nextCursor: z.string().nullable() });
export type TBulkList = z.infer<typeof ZBulkList>;

// ---- shared wording ----------------------------------------------------------------------------

export const BULK_STATUS_LABELS: Record<TBulkStatus, string> = {
  awaiting_approval: "awaiting approval",
  approved: "approved, starting",
  running: "running",
  completed: "completed",
  failed: "failed",
  rejected: "rejected",
  cancelled: "cancelled",
};

export const BULK_RESULT_LABELS: Record<TBulkItemResult | "pending", string> = {
  revoked: "revoked",
  already_revoked: "already revoked",
  expired: "expired",
  not_cancellable: "not cancellable",
  cancel_requested: "cancel sent",
  cancelled: "cancelled",
  error: "error",
  pending: "not processed",
};

/** A job that will still change by itself (the page keeps refreshing while it is in one of these). */
export function isBulkActive(status: TBulkStatus): boolean {
  return status === "approved" || status === "running";
}
