// What the inventory (page, GET /api/v1/handles, CSV export) shows of a handle, and the facets.
// Rows are parsed through these schemas before they leave a use case: no field exists for a
// secret column (token hash, encrypted token, upstream task id), so none can leak. Pure.
import { z } from "zod";
import { HANDLE_CANCEL_STATES, HANDLE_STATES, HANDLE_STATUSES, HANDLE_WIRES } from "./handle-filter-schema";

const ZIso = z.iso.datetime();

export const ZHandleListItem = z.strictObject({
  id: z.string(),
  /** Public, non-secret name of the handle; the handle page lives at /handles/{accessor}. */
  accessor: z.string(),
  server: z.strictObject({ id: z.string(), slug: z.string(), name: z.string(), enabled: z.boolean(), removed: z.boolean() }),
  audience: z.string(),
  owner: z.strictObject({ id: z.string(), name: z.string(), kind: z.enum(["user", "service", "system"]), disabled: z.boolean() }),
  session: z.strictObject({ id: z.string(), ended: z.boolean() }).nullable(),
  toolName: z.string(),
  wire: z.enum(HANDLE_WIRES),
  status: z.enum(HANDLE_STATUSES),
  statusMessage: z.string().nullable(),
  /** live: honoured by the gateway now; revoked; expired (ran out, never revoked). */
  state: z.enum(HANDLE_STATES),
  createdAt: ZIso,
  expiresAt: ZIso,
  lastUsedAt: ZIso.nullable(),
  useCount: z.number().int(),
  effectiveTtlMs: z.number().int(),
  policyVersion: z.number().int(),
  revokedAt: ZIso.nullable(),
  revokeTrigger: z.string().nullable(),
  revokeReason: z.string().nullable(),
  cancelState: z.enum(HANDLE_CANCEL_STATES),
});
export type THandleListItem = z.infer<typeof ZHandleListItem>;

/** One page of the inventory. Cursors are opaque; null when there is no such page. */
export const ZHandleListPage = z.strictObject({
  data: z.array(ZHandleListItem),
  nextCursor: z.string().nullable(),
  prevCursor: z.string().nullable(),
  /** The policy version in force, so "issued under an old policy" can be shown per row. */
  currentPolicyVersion: z.number().int().nullable(),
});
export type THandleListPage = z.infer<typeof ZHandleListPage>;

/**
 * Counts for the status, server and owner pickers under the current filter, each facet counted
 * with its own dimension left out (choosing one status still shows how many the others have).
 */
export const ZHandleFacets = z.strictObject({
  status: z.array(z.strictObject({ value: z.enum(HANDLE_STATUSES), count: z.number().int() })),
  server: z.array(z.strictObject({ slug: z.string(), name: z.string(), count: z.number().int() })),
  owner: z.array(z.strictObject({ id: z.string(), name: z.string(), kind: z.enum(["user", "service", "system"]), count: z.number().int() })),
  /** More owners match than are listed (only the largest ones, and every chosen one, are). */
  ownersTruncated: z.boolean(),
  /** Handles matching the whole filter. */
  total: z.number().int(),
});
export type THandleFacets = z.infer<typeof ZHandleFacets>;
