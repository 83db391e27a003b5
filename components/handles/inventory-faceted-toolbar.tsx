import type { TActor } from "@/lib/auth/actor";
import { isAppError } from "@/lib/errors";
import { countHandleFacets } from "@/lib/handles/count-handle-facets";
import type { TQueryRecord } from "@/lib/handles/handle-filter-schema";
import type { THandleFacets } from "@/lib/handles/handle-list-dto";
import { describeErrorForLog, log } from "@/lib/log";
import { InventoryToolbar, type TInventoryToolbarProps } from "./inventory-toolbar";

/**
 * The filter form with its facet counts. Rendered inside a Suspense boundary, so the table shows
 * while the counts (a group-by over everything the rest of the filter matches) are computed;
 * when they cannot be, the form still works, without counts.
 */
export async function InventoryFacetedToolbar({ actor, query, ...props }: Omit<TInventoryToolbarProps, "facets" | "facetsNote"> & { actor: TActor; query: TQueryRecord }) {
  let facets: THandleFacets | null = null;
  try {
    facets = await countHandleFacets({ actor, filter: query });
  } catch (err) {
    if (!isAppError(err) || err.status >= 500) log.error({ requestId: actor.request.requestId, err: describeErrorForLog(err) }, "handle facet counts failed");
    return <InventoryToolbar {...props} facets={null} facetsNote={`Counts are unavailable right now (request id ${actor.request.requestId}).`} />;
  }
  return <InventoryToolbar {...props} facets={facets} />;
}
