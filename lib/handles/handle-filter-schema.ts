// The handle inventory's filter: one zod schema reads the query string of the /handles page, of
// GET /api/v1/handles and of the CSV export — strictly for the API (any bad parameter is a 400),
// leniently for the page (a bad parameter is dropped and named). Also the opaque keyset cursor,
// the presets and the URL form. Pure module: the page's client components import it for links.
import { z } from "zod";
import type { CancelState, TaskStatus, TaskWire } from "@/lib/db/generated/enums";
import { AppError, type TFieldIssue } from "@/lib/errors";

export { toQueryRecord, type TQueryRecord } from "@/lib/http/query-record";
import type { TQueryRecord } from "@/lib/http/query-record";

export const HANDLE_STATUSES = ["working", "input_required", "completed", "failed", "cancelled", "expired_upstream"] as const satisfies readonly TaskStatus[];
export const HANDLE_CANCEL_STATES = ["none", "requested", "confirmed", "already_terminal", "not_supported", "unreachable"] as const satisfies readonly CancelState[];
export const HANDLE_WIRES = ["core_2025_11_25", "ext_2026_07_28"] as const satisfies readonly TaskWire[];
/** live: the gateway still honours it (not revoked, not expired); expired: ran out, never revoked. */
export const HANDLE_STATES = ["live", "revoked", "expired"] as const;
export const HANDLE_SORTS = ["created", "expires", "lastUsed", "useCount"] as const;
export const HANDLE_SORT_DIRS = ["asc", "desc"] as const;
export const HANDLE_PAGE_SIZE = { default: 50, max: 200 } as const;

export type THandleStatus = (typeof HANDLE_STATUSES)[number];
export type THandleState = (typeof HANDLE_STATES)[number];
export type THandleSort = (typeof HANDLE_SORTS)[number];
export type THandleSortDir = (typeof HANDLE_SORT_DIRS)[number];

/**
 * Built-in presets. Each is a set of live handles (the ones that are a capability right now)
 * with one more condition; other filters narrow it further.
 */
export const HANDLE_PRESETS = {
  live: { label: "Live", description: "Not revoked and not expired: the gateway honours these now.", sort: "created", dir: "desc" },
  expiring: { label: "Expiring within 1 h", description: "Live handles whose TTL runs out within the hour, soonest first.", sort: "expires", dir: "asc" },
  orphaned: { label: "Orphaned", description: "Live handles whose owner is disabled or whose server is removed or disabled.", sort: "created", dir: "desc" },
  ended_sessions: { label: "Bound to ended sessions", description: "Live handles whose gateway session has ended.", sort: "created", dir: "desc" },
  old_policy: { label: "Issued under an old policy", description: "Live handles issued under a policy version older than the one in force.", sort: "created", dir: "desc" },
} as const satisfies Record<string, { label: string; description: string; sort: THandleSort; dir: THandleSortDir }>;
export type THandlePreset = keyof typeof HANDLE_PRESETS;
export const HANDLE_PRESET_IDS = Object.keys(HANDLE_PRESETS) as THandlePreset[];

/** How a page without an explicit sort is ordered. */
export function defaultSortOf(preset: THandlePreset | undefined): { sort: THandleSort; dir: THandleSortDir } {
  return preset ? { sort: HANDLE_PRESETS[preset].sort, dir: HANDLE_PRESETS[preset].dir } : { sort: "created", dir: "desc" };
}

// ---- cursor -------------------------------------------------------------------------------
// Opaque to callers: base64url of "1|sort|dir|a or b|value|id" — the sort key and id of the row a
// page starts after (a) or ends before (b). Validated field by field and only the canonical
// spelling is accepted; a cursor is a position, not a credential (every handle it can point at is
// visible to whoever may list). btoa/atob rather than Buffer: the browser builds links with this.

export type THandleCursor = {
  sort: THandleSort;
  dir: THandleSortDir;
  /** "after": the page after this row; "before": the page before it. */
  kind: "after" | "before";
  /** ISO timestamp (created, expires, lastUsed; "-infinity" for a never-used handle) or a use count. */
  value: string;
  id: string;
};

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_INT = 2_147_483_647;

export function encodeHandleCursor(c: THandleCursor): string {
  const text = ["1", c.sort, c.dir, c.kind === "after" ? "a" : "b", c.value, c.id].join("|");
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The position a cursor stands for, or null when it is not one this module made. */
export function decodeHandleCursor(cursor: string): THandleCursor | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  let text: string;
  try {
    text = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return null;
  }
  const parts = text.split("|");
  if (parts.length !== 6 || parts[0] !== "1") return null;
  const [, sort, dir, kind, value, id] = parts as [string, string, string, string, string, string];
  if (!(HANDLE_SORTS as readonly string[]).includes(sort) || !(HANDLE_SORT_DIRS as readonly string[]).includes(dir)) return null;
  if (kind !== "a" && kind !== "b") return null;
  if (!UUID.test(id) || !isSortValue(sort as THandleSort, value)) return null;
  const decoded: THandleCursor = { sort: sort as THandleSort, dir: dir as THandleSortDir, kind: kind === "a" ? "after" : "before", value, id };
  // Only the canonical spelling counts, so one position has exactly one cursor.
  return encodeHandleCursor(decoded) === cursor ? decoded : null;
}

function isSortValue(sort: THandleSort, value: string): boolean {
  if (sort === "useCount") return /^(0|[1-9][0-9]{0,9})$/.test(value) && Number(value) <= MAX_INT;
  if (sort === "lastUsed" && value === "-infinity") return true;
  return ISO_MS.test(value) && !Number.isNaN(Date.parse(value)) && new Date(value).toISOString() === value;
}

// ---- fields ------------------------------------------------------------------------------

export const CURSOR_MESSAGE = "This cursor is not one Tether issued (it may be cut off or edited). Start again from the first page without it.";
const CURSOR_SORT_MESSAGE = "This cursor belongs to another sort order. Start again from the first page without it.";
const PAGE_SIZE_MESSAGE = `Give a page size from 1 to ${HANDLE_PAGE_SIZE.max}.`;

function blankToUndefined(v: unknown): unknown {
  return typeof v === "string" && v.trim() === "" ? undefined : v;
}

/** One value of a single-valued parameter; blank means absent (forms submit empty fields). */
function single<T extends z.ZodType>(schema: T) {
  return z.preprocess((v, ctx) => {
    if (Array.isArray(v)) {
      if (v.length !== 1) ctx.addIssue({ code: "custom", message: "Give this parameter only once.", input: v });
      return blankToUndefined(v[0]);
    }
    return blankToUndefined(v);
  }, schema.optional());
}

/** Repeated keys or comma-separated values, each checked; sorted and de-duplicated so equal filters compare equal. */
function many<T>(item: (s: string) => T | null, message: (bad: string[]) => string, doc: { items: Record<string, unknown>; description: string }, max = 100) {
  const parsed = z.preprocess(
    (v) => {
      if (v === undefined) return undefined;
      const list = (Array.isArray(v) ? v : [v]).flatMap((s) => (typeof s === "string" ? s.split(",") : [String(s)]));
      const cleaned = list.map((s) => s.trim()).filter((s) => s !== "");
      return cleaned.length === 0 ? undefined : [...new Set(cleaned)].sort();
    },
    z
      .array(z.string())
      .max(max, `Give at most ${max} values.`)
      .transform((list, ctx) => {
        const bad = list.filter((s) => item(s) === null);
        if (bad.length) {
          ctx.addIssue({ code: "custom", message: message(bad) });
          return z.NEVER;
        }
        return list.map((s) => item(s) as T);
      })
      .optional(),
  );
  // What the OpenAPI document says (the check above is a function it cannot see into).
  return parsed.meta({ type: "array", items: doc.items, description: `${doc.description} Repeat the parameter or separate values with commas.` });
}

function oneOf<const T extends readonly string[]>(values: T) {
  return (s: string): T[number] | null => ((values as readonly string[]).includes(s) ? s : null);
}

const quoted = (bad: string[]) => bad.map((b) => `"${b.slice(0, 80)}"`).join(", ");

const ZDateTime = z
  .preprocess((v) => (v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString() : v), z.string({ error: "Use an ISO 8601 date and time." }))
  .transform((v) => v.trim())
  .pipe(z.iso.datetime({ offset: true, local: true, error: "Use an ISO 8601 date and time, e.g. 2026-11-26T09:00:00Z (no offset means UTC)." }))
  // A time without an offset is UTC: the console shows every time in UTC.
  .transform((v) => new Date(/(Z|[+-]\d{2}:?\d{2})$/i.test(v) ? v : `${v}Z`))
  .meta({ type: "string", format: "date-time", description: "ISO 8601; no offset means UTC." });

/** The filter parameters one by one (the OpenAPI document lists them from here). */
export const HANDLE_FILTER_FIELDS = {
  preset: single(z.enum(HANDLE_PRESET_IDS as [THandlePreset, ...THandlePreset[]], { error: `Unknown preset; use ${HANDLE_PRESET_IDS.join(", ")}.` })),
  status: many(oneOf(HANDLE_STATUSES), (bad) => `Unknown status ${quoted(bad)}; use ${HANDLE_STATUSES.join(", ")}.`, { items: { type: "string", enum: [...HANDLE_STATUSES] }, description: "Live task status." }),
  server: many((s) => (/^[a-z0-9][a-z0-9-]{0,62}$/.test(s) ? s : null), (bad) => `Not a server slug: ${quoted(bad)}.`, { items: { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,62}$" }, description: "Server slug." }),
  owner: many((s) => (UUID.test(s.toLowerCase()) ? s.toLowerCase() : null), (bad) => `An owner is a principal id (a UUID): ${quoted(bad)} is not one.`, { items: { type: "string", format: "uuid" }, description: "Owner principal id." }),
  session: single(z.string().trim().toLowerCase().regex(UUID, "A session is a gateway session id (a UUID).")),
  tool: single(z.string().trim().max(200, "A tool name has at most 200 characters.")),
  accessor: single(
    z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^[a-z0-9_-]{1,64}$/, "An accessor prefix has 1 to 64 letters, digits, hyphens or underscores, e.g. hdl_3f2a."),
  ),
  createdFrom: single(ZDateTime),
  createdTo: single(ZDateTime),
  expiresFrom: single(ZDateTime),
  expiresTo: single(ZDateTime),
  state: many(oneOf(HANDLE_STATES), (bad) => `Unknown state ${quoted(bad)}; use ${HANDLE_STATES.join(", ")}.`, { items: { type: "string", enum: [...HANDLE_STATES] }, description: "Lifecycle: live, revoked or expired." }),
  cancel: many(oneOf(HANDLE_CANCEL_STATES), (bad) => `Unknown cancel state ${quoted(bad)}; use ${HANDLE_CANCEL_STATES.join(", ")}.`, { items: { type: "string", enum: [...HANDLE_CANCEL_STATES] }, description: "Cancel state." }),
  policy: many(
    (s) => (/^[1-9][0-9]{0,8}$/.test(s) ? Number(s) : null),
    (bad) => `A policy version is a whole number from 1: ${quoted(bad)} is not one.`,
    { items: { type: "integer", minimum: 1 }, description: "Policy version the handle was issued under." },
  ),
  wire: many(oneOf(HANDLE_WIRES), (bad) => `Unknown task wire ${quoted(bad)}; use ${HANDLE_WIRES.join(", ")}.`, { items: { type: "string", enum: [...HANDLE_WIRES] }, description: "Task wire." }),
  sort: single(z.enum(HANDLE_SORTS, { error: `Sort by one of: ${HANDLE_SORTS.join(", ")}.` })),
  dir: single(z.enum(HANDLE_SORT_DIRS, { error: "dir is asc or desc." })),
  limit: single(
    z.coerce.number({ error: PAGE_SIZE_MESSAGE }).int(PAGE_SIZE_MESSAGE).min(1, PAGE_SIZE_MESSAGE).max(HANDLE_PAGE_SIZE.max, PAGE_SIZE_MESSAGE),
  ),
  cursor: single(
    z.string().transform((c, ctx) => {
      const decoded = decodeHandleCursor(c);
      if (!decoded) {
        ctx.addIssue({ code: "custom", message: CURSOR_MESSAGE });
        return z.NEVER;
      }
      return decoded;
    }).meta({ type: "string", description: "Opaque: the nextCursor or prevCursor of a page, for the same sort order." }),
  ),
};

type TRawFilter = { [K in keyof typeof HANDLE_FILTER_FIELDS]?: z.output<(typeof HANDLE_FILTER_FIELDS)[K]> };

export type THandleFilter = Omit<TRawFilter, "sort" | "dir" | "limit"> & { sort: THandleSort; dir: THandleSortDir; limit: number };

const RANGE_PAIRS = [
  ["createdFrom", "createdTo", "“Created from” must not be after “Created to”."],
  ["expiresFrom", "expiresTo", "“Expires from” must not be after “Expires to”."],
] as const;

/** Fills in the defaults the raw parameters leave open (sort from the preset, page size). */
function complete(raw: TRawFilter): THandleFilter {
  const fallback = defaultSortOf(raw.preset);
  const sort = raw.sort ?? fallback.sort;
  // An explicit sort without a direction: newest / highest first, like the default.
  const dir = raw.dir ?? (raw.sort ? "desc" : fallback.dir);
  const out: THandleFilter = { ...raw, sort, dir, limit: raw.limit ?? HANDLE_PAGE_SIZE.default };
  if (out.cursor === undefined) delete out.cursor;
  return out;
}

/** The API's filter: any malformed parameter, or one it does not know, is refused. */
export const ZHandleFilter = z
  .strictObject(HANDLE_FILTER_FIELDS)
  .transform((raw) => complete(raw as TRawFilter))
  .superRefine((f, ctx) => {
    for (const [from, to, message] of RANGE_PAIRS) {
      if (f[from] && f[to] && f[from] > f[to]) ctx.addIssue({ code: "custom", path: [to], message });
    }
    if (f.cursor && (f.cursor.sort !== f.sort || f.cursor.dir !== f.dir)) ctx.addIssue({ code: "custom", path: ["cursor"], message: CURSOR_SORT_MESSAGE });
  });

/** Strict parse for the API and the export: BAD_REQUEST (400) with one issue per field. */
export function parseHandleFilter(query: unknown): THandleFilter {
  const parsed = ZHandleFilter.safeParse(query ?? {});
  if (parsed.success) return parsed.data;
  const cursorOnly = parsed.error.issues.every((i) => i.path[0] === "cursor");
  const issues = parsed.error.issues.map((i) => ({
    path: i.path.map(String).join(".") || "(root)",
    // zod names unknown keys in its own words; say which parameters are meant.
    message: i.code === "unrecognized_keys" ? `Unknown parameter${i.keys.length > 1 ? "s" : ""} ${i.keys.join(", ")}; see the API documentation for the filters.` : i.message,
  }));
  throw new AppError("BAD_REQUEST", cursorOnly ? (issues[0]?.message ?? CURSOR_MESSAGE) : "The handle filter has invalid parameters.", { issues });
}

/**
 * The page's twin: each malformed parameter is dropped (and reported, so the page can say which
 * filters it ignored) instead of failing the page. Unknown keys (the page's own, like `cols`) are
 * left alone. A cursor of another sort order is dropped too: the list starts at its first page.
 */
export function parseHandleFilterLenient(query: TQueryRecord): { filter: THandleFilter; issues: TFieldIssue[] } {
  const issues: TFieldIssue[] = [];
  const raw: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(HANDLE_FILTER_FIELDS)) {
    const parsed = (schema as z.ZodType).safeParse(query[key]);
    if (parsed.success) {
      if (parsed.data !== undefined) raw[key] = parsed.data;
    } else {
      issues.push({ path: key, message: parsed.error.issues[0]?.message ?? "Invalid value." });
    }
  }
  const filter = complete(raw as TRawFilter);
  for (const [from, to, message] of RANGE_PAIRS) {
    if (filter[from] && filter[to] && filter[from] > filter[to]) {
      issues.push({ path: to, message });
      delete filter[from];
      delete filter[to];
    }
  }
  if (filter.cursor && (filter.cursor.sort !== filter.sort || filter.cursor.dir !== filter.dir)) {
    issues.push({ path: "cursor", message: CURSOR_SORT_MESSAGE });
    delete filter.cursor;
  }
  return { filter, issues };
}

// ---- normal form and URL form ------------------------------------------------------------

/** Plain JSON of what narrows the list (no cursor, sort or page size), keys in a fixed order. */
export type TNormalisedHandleFilter = {
  preset?: THandlePreset;
  status?: string[];
  server?: string[];
  owner?: string[];
  session?: string;
  tool?: string;
  accessor?: string;
  createdFrom?: string;
  createdTo?: string;
  expiresFrom?: string;
  expiresTo?: string;
  state?: string[];
  cancel?: string[];
  policy?: number[];
  wire?: string[];
};

export function normaliseHandleFilter(f: Partial<THandleFilter>): TNormalisedHandleFilter {
  const out: TNormalisedHandleFilter = {};
  if (f.preset) out.preset = f.preset;
  if (f.status?.length) out.status = [...f.status];
  if (f.server?.length) out.server = [...f.server];
  if (f.owner?.length) out.owner = [...f.owner];
  if (f.session) out.session = f.session;
  if (f.tool) out.tool = f.tool;
  if (f.accessor) out.accessor = f.accessor;
  if (f.createdFrom) out.createdFrom = f.createdFrom.toISOString();
  if (f.createdTo) out.createdTo = f.createdTo.toISOString();
  if (f.expiresFrom) out.expiresFrom = f.expiresFrom.toISOString();
  if (f.expiresTo) out.expiresTo = f.expiresTo.toISOString();
  if (f.state?.length) out.state = [...f.state];
  if (f.cancel?.length) out.cancel = [...f.cancel];
  if (f.policy?.length) out.policy = [...f.policy].sort((a, b) => a - b);
  if (f.wire?.length) out.wire = [...f.wire];
  return out;
}

/** True when anything narrows the list (a preset counts; sort, page size and cursor do not). */
export function isHandleFilterActive(f: Partial<THandleFilter>): boolean {
  return Object.keys(normaliseHandleFilter(f)).length > 0;
}

/**
 * The filter as a query string: repeated keys for lists; the sort only when it is not the
 * preset's default, the page size only when not the default; the cursor when given.
 */
export function handleFilterToSearchParams(f: Partial<THandleFilter>, options: { cursor?: THandleCursor | null } = {}): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(normaliseHandleFilter(f))) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v));
  }
  const fallback = defaultSortOf(f.preset);
  if (f.sort && (f.sort !== fallback.sort || (f.dir ?? "desc") !== fallback.dir)) {
    params.set("sort", f.sort);
    params.set("dir", f.dir ?? "desc");
  }
  if (f.limit && f.limit !== HANDLE_PAGE_SIZE.default) params.set("limit", String(f.limit));
  const cursor = options.cursor === undefined ? f.cursor : options.cursor;
  if (cursor) params.set("cursor", encodeHandleCursor(cursor));
  return params;
}

/** The filter's query string without its cursor (sort and page size kept): what a saved view keeps. */
export function handleFilterQuery(f: Partial<THandleFilter>): string {
  return handleFilterToSearchParams(f, { cursor: null }).toString();
}

// ---- the page's own parameter: column visibility ----------------------------------------

/** Columns of the inventory table that can be hidden (the accessor always shows). */
export const HANDLE_COLUMNS = ["server", "owner", "session", "tool", "status", "created", "expires", "lastUsed", "useCount", "policy", "state"] as const;
export type THandleColumn = (typeof HANDLE_COLUMNS)[number];
export const DEFAULT_HANDLE_COLUMNS: readonly THandleColumn[] = ["server", "owner", "tool", "status", "created", "expires", "useCount", "state"];
/** `cols=server,owner,…`: the visible columns, when not the default set. A parameter of the page, not a filter. */
export const COLUMNS_PARAM = "cols";

/** The visible columns a `cols` value names (unknown names dropped); the default set when absent or empty. */
export function parseHandleColumns(value: string | string[] | undefined): THandleColumn[] {
  const text = Array.isArray(value) ? value.join(",") : value;
  if (text === undefined) return [...DEFAULT_HANDLE_COLUMNS];
  const chosen = new Set(text.split(",").map((s) => s.trim()));
  return HANDLE_COLUMNS.filter((c) => chosen.has(c));
}

/** The `cols` value for a set of visible columns, or null for the default set. */
export function handleColumnsParam(columns: readonly THandleColumn[]): string | null {
  const ordered = HANDLE_COLUMNS.filter((c) => columns.includes(c));
  const isDefault = ordered.length === DEFAULT_HANDLE_COLUMNS.length && ordered.every((c) => DEFAULT_HANDLE_COLUMNS.includes(c));
  return isDefault ? null : ordered.join(",") || "none";
}
