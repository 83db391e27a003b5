// URLs of the handle inventory. The URL is the page's only state: filter, preset, sort, page size,
// cursor and visible columns. Every control is a link or a navigation to one of these.
import {
  COLUMNS_PARAM,
  handleColumnsParam,
  handleFilterToSearchParams,
  type THandleColumn,
  type THandleFilter,
  type THandlePreset,
  type THandleSort,
} from "@/lib/handles/handle-filter-schema";

export const INVENTORY_PATH = "/handles";

/** The view being shown: the filter plus the visible columns. */
export type TInventoryView = { filter: THandleFilter; columns: readonly THandleColumn[] };

function withColumns(params: URLSearchParams, columns: readonly THandleColumn[]): string {
  const cols = handleColumnsParam(columns);
  if (cols) params.set(COLUMNS_PARAM, cols);
  const query = params.toString();
  return query ? `${INVENTORY_PATH}?${query}` : INVENTORY_PATH;
}

/** This view at another position (an opaque cursor from the list) or at its first page (null). */
export function pageHref(view: TInventoryView, cursor: string | null): string {
  const params = handleFilterToSearchParams(view.filter, { cursor: null });
  if (cursor) params.set("cursor", cursor);
  return withColumns(params, view.columns);
}

/** Sorting by a column: first click sorts descending, the next ascending; back to page 1. */
export function sortHref(view: TInventoryView, sort: THandleSort): string {
  const dir = view.filter.sort === sort && view.filter.dir === "desc" ? "asc" : "desc";
  return withColumns(handleFilterToSearchParams({ ...view.filter, sort, dir }, { cursor: null }), view.columns);
}

/** A preset tab (null: all handles). Other filters stay; the sort becomes the preset's own. */
export function presetHref(view: TInventoryView, preset: THandlePreset | null): string {
  const { sort: _sort, dir: _dir, preset: _preset, ...rest } = view.filter;
  return withColumns(handleFilterToSearchParams({ ...rest, ...(preset ? { preset } : {}) }, { cursor: null }), view.columns);
}

/** The same filter with other visible columns. */
export function columnsHref(view: TInventoryView, columns: readonly THandleColumn[]): string {
  return withColumns(handleFilterToSearchParams(view.filter), columns);
}

/** No filter, no preset; the columns and page size stay. */
export function clearFiltersHref(view: TInventoryView): string {
  return withColumns(handleFilterToSearchParams({ limit: view.filter.limit }), view.columns);
}

/** The CSV export of this filter (every page, in this order). */
export function exportHref(filter: THandleFilter): string {
  const { limit: _limit, cursor: _cursor, ...rest } = filter;
  const query = handleFilterToSearchParams(rest, { cursor: null }).toString();
  return query ? `/api/v1/handles/export?${query}` : "/api/v1/handles/export";
}

/** The handle page. */
export function handleHref(accessor: string): string {
  return `${INVENTORY_PATH}/${encodeURIComponent(accessor)}`;
}
