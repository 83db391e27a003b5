import type { Metadata } from "next";
import { Suspense } from "react";
import { InventoryColumnMenu } from "@/components/handles/inventory-column-menu";
import { InventoryFacetedToolbar } from "@/components/handles/inventory-faceted-toolbar";
import { InventoryPresets } from "@/components/handles/inventory-presets";
import { InventorySavedViews } from "@/components/handles/inventory-saved-views";
import { InventoryEmpty, InventoryError, InventoryIgnoredFilters } from "@/components/handles/inventory-states";
import { InventoryTable } from "@/components/handles/inventory-table";
import { InventoryToolbar } from "@/components/handles/inventory-toolbar";
import { clearFiltersHref, exportHref, pageHref, type TInventoryView } from "@/components/handles/inventory-urls";
import { LiveRefresh } from "@/components/live/live-refresh";
import { PageHeader } from "@/components/ui/page-header";
import { requirePageActor } from "@/lib/auth/current-actor";
import { bulkRightsOf } from "@/lib/bulk/bulk-rights";
import {
  COLUMNS_PARAM,
  defaultSortOf,
  handleColumnsParam,
  handleFilterQuery,
  handleFilterToSearchParams,
  isHandleFilterActive,
  normaliseHandleFilter,
  parseHandleColumns,
  parseHandleFilterLenient,
  toQueryRecord,
  type TQueryRecord,
} from "@/lib/handles/handle-filter-schema";
import type { THandleListPage } from "@/lib/handles/handle-list-dto";
import { listHandles } from "@/lib/handles/list-handles";
import { listSavedViews } from "@/lib/handles/list-saved-views";
import type { TSavedViewDto } from "@/lib/handles/saved-view-schemas";
import { describeErrorForLog, log } from "@/lib/log";

export const metadata: Metadata = { title: "Handles" };

const EXPORT_LINK =
  "inline-flex h-9 items-center rounded-control border border-border bg-surface px-3.5 text-sm font-medium text-fg hover:bg-surface-muted";

// GET /handles — the handle inventory (handles.read). Filter, preset, sort, page size, cursor and
// visible columns all live in the URL; the table is fetched for exactly that URL.
export default async function HandlesPage({ searchParams }: { searchParams: Promise<TQueryRecord> }) {
  const actor = await requirePageActor("handles.read");
  const query = await searchParams;
  const { filter, issues } = parseHandleFilterLenient(query);
  const view: TInventoryView = { filter, columns: parseHandleColumns(query[COLUMNS_PARAM]) };
  // The cleaned filter goes through the strict parser inside the use cases again.
  const cleaned = toQueryRecord(handleFilterToSearchParams(filter));

  let loaded: { page: THandleListPage; views: TSavedViewDto[] } | null = null;
  try {
    const [page, views] = await Promise.all([listHandles({ actor, filter: cleaned }), listSavedViews({ actor })]);
    loaded = { page, views };
  } catch (err) {
    log.error({ requestId: actor.request.requestId, err: describeErrorForLog(err) }, "handle inventory failed");
  }

  const cols = handleColumnsParam(view.columns);
  const currentQuery = [handleFilterQuery(filter), cols ? `${COLUMNS_PARAM}=${encodeURIComponent(cols)}` : ""].filter(Boolean).join("&");
  const keep: Record<string, string> = {};
  if (filter.preset) keep.preset = filter.preset;
  const defaultSort = defaultSortOf(filter.preset);
  if (filter.sort !== defaultSort.sort || filter.dir !== defaultSort.dir) Object.assign(keep, { sort: filter.sort, dir: filter.dir });
  if (cols) keep[COLUMNS_PARAM] = cols;
  const toolbar = { filter: normaliseHandleFilter(filter), limit: filter.limit, keep, clearHref: clearFiltersHref(view) };

  return (
    <>
      <LiveRefresh topics={["handle"]} />
      <PageHeader
        title="Handles"
        description="Every task handle Tether has minted, with the owner, server, session and lifetime it is bound to. Times are UTC."
        actions={
          <div className="flex flex-wrap items-center gap-2">
            <a href={exportHref(filter)} download className={EXPORT_LINK}>
              Export CSV
            </a>
            <InventoryColumnMenu view={view} />
            {loaded ? <InventorySavedViews views={loaded.views} currentQuery={currentQuery} /> : null}
          </div>
        }
      />
      <InventoryPresets view={view} />
      <Suspense key={JSON.stringify(toolbar)} fallback={<InventoryToolbar {...toolbar} facets={null} />}>
        <InventoryFacetedToolbar {...toolbar} actor={actor} query={cleaned} />
      </Suspense>
      <InventoryIgnoredFilters issues={issues} />

      {!loaded ? (
        <InventoryError requestId={actor.request.requestId} retryHref={pageHref(view, null)} />
      ) : loaded.page.data.length === 0 ? (
        <InventoryEmpty filtered={isHandleFilterActive(filter)} clearHref={clearFiltersHref(view)} firstPageHref={filter.cursor ? pageHref(view, null) : null} />
      ) : (
        <InventoryTable
          rows={loaded.page.data}
          view={view}
          now={new Date().getTime()}
          currentPolicyVersion={loaded.page.currentPolicyVersion}
          nextCursor={loaded.page.nextCursor}
          prevCursor={loaded.page.prevCursor}
          bulk={bulkRightsOf(actor.role)}
        />
      )}
    </>
  );
}
