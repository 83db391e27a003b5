// URLs of the bulk pages. A preview's address names the action and its selection (accessors are
// public ids, never secrets), so "back", reload and sharing all show the same preview, recomputed.
import { handleFilterToSearchParams, type THandleFilter } from "@/lib/handles/handle-filter-schema";
import type { TBulkKind } from "@/lib/bulk/schemas";

export const BULK_PATH = "/bulk";

/** The preview of `kind` for the chosen accessors, or for every handle matching the filter. */
export function bulkNewHref(kind: TBulkKind, selection: { accessors: string[] } | { filter: Partial<THandleFilter> }): string {
  const params = new URLSearchParams({ kind });
  if ("accessors" in selection) {
    params.set("scope", "selected");
    params.set("accessors", selection.accessors.join(","));
  } else {
    params.set("scope", "filter");
    // Only what narrows the set: sort, page size and cursor do not.
    const { sort: _s, dir: _d, limit: _l, cursor: _c, ...filter } = selection.filter;
    for (const [key, value] of handleFilterToSearchParams(filter, { cursor: null })) params.append(key, value);
  }
  return `${BULK_PATH}/new?${params.toString()}`;
}

export function bulkHref(id: string, options: { after?: number | null; result?: string | null } = {}): string {
  const params = new URLSearchParams();
  if (options.result) params.set("result", options.result);
  if (options.after) params.set("after", String(options.after));
  const query = params.toString();
  return `${BULK_PATH}/${id}${query ? `?${query}` : ""}`;
}
