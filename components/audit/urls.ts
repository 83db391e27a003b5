// URLs of the Audit page. The URL is the page's only state: filter, page (cursor plus the
// cursors of the newer pages, so "Newer" needs no server round trip) and the open event.
import { auditFilterToSearchParams, decodeAuditCursor, type TAuditFilter, type TQueryRecord } from "@/lib/audit/schemas";

export const AUDIT_PATH = "/audit";
/** Cursors of the newer pages, oldest last, joined with "." (never part of a base64url cursor). */
export const PREV_PARAM = "prev";
export const EVENT_PARAM = "event";
const MAX_PREV = 500;

/** The lenient reading of `prev`: cursors that do not decode are dropped. */
export function parsePrev(query: TQueryRecord, cursor: string | undefined): string[] {
  if (!cursor) return [];
  const raw = query[PREV_PARAM];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (!text) return [];
  return text
    .split(".")
    .filter((c) => decodeAuditCursor(c) !== null)
    .slice(-MAX_PREV);
}

function href(params: URLSearchParams): string {
  const query = params.toString();
  return query ? `${AUDIT_PATH}?${query}` : AUDIT_PATH;
}

export type TAuditPageLinks = {
  /** This page of the list, without an open event (where closing the drawer goes). */
  list: string;
  /** Query string of `list`, to which the table appends `event=<id>`. */
  listQuery: string;
  newest: string | null;
  newer: string | null;
  older: string | null;
};

export function auditPageLinks(filter: TAuditFilter, prev: string[], nextCursor: string | null): TAuditPageLinks {
  const withPage = (cursor: string | undefined, stack: string[]) => {
    const params = auditFilterToSearchParams({ ...filter, cursor });
    if (cursor && stack.length) params.set(PREV_PARAM, stack.join("."));
    return params;
  };
  const current = withPage(filter.cursor, prev);
  return {
    list: href(current),
    listQuery: current.toString(),
    newest: filter.cursor ? href(withPage(undefined, [])) : null,
    newer: filter.cursor ? href(withPage(prev.at(-1), prev.slice(0, -1))) : null,
    older: nextCursor ? href(withPage(nextCursor, filter.cursor ? [...prev, filter.cursor] : [])) : null,
  };
}

export function eventHref(listQuery: string, eventId: string): string {
  const params = new URLSearchParams(listQuery);
  params.set(EVENT_PARAM, eventId);
  return `${AUDIT_PATH}?${params}`;
}

/** A link to the list narrowed to one field (from the drawer: same actor, target, request). */
export function filterHref(filter: Partial<TAuditFilter>): string {
  return href(auditFilterToSearchParams(filter));
}

/** The export endpoint for the current time range (the export takes only from/to). */
export function exportHref(format: "ndjson" | "csv", filter: TAuditFilter): string {
  const params = new URLSearchParams({ format });
  if (filter.from) params.set("from", filter.from.toISOString());
  if (filter.to) params.set("to", filter.to.toISOString());
  return `/api/v1/audit/export?${params}`;
}
