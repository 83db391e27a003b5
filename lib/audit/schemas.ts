// Audit search: the filter (strict for the API, lenient for pages), its URL form and the event
// DTO. Pure module: the page's client components import it to build URLs.
import { z } from "zod";
import { AppError, type TFieldIssue } from "@/lib/errors";
import { AUDIT_ACTIONS } from "./events";

export const AUDIT_ACTOR_TYPES = ["user", "service", "system"] as const;
export const AUDIT_OUTCOMES = ["ok", "denied", "error"] as const;
export const AUDIT_REFERENCE_KINDS = ["email", "token", "api-key", "value"] as const;
export const AUDIT_PAGE_SIZE = { default: 50, max: 200 } as const;

export type TAuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];
export type TAuditOutcome = (typeof AUDIT_OUTCOMES)[number];
export type TAuditReferenceKind = (typeof AUDIT_REFERENCE_KINDS)[number];

export { toQueryRecord, type TQueryRecord } from "@/lib/http/query-record";
import type { TQueryRecord } from "@/lib/http/query-record";

// ---- cursor -------------------------------------------------------------------------------
// Opaque to callers: base64url of the decimal seq of the last event on the previous page.
// btoa/atob rather than Buffer, because the browser builds pagination links with this too.

const MAX_SEQ = 2n ** 63n - 1n;

export function encodeAuditCursor(seq: string | bigint): string {
  return btoa(String(seq)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The seq a cursor stands for, or null when it is not one this module made. */
export function decodeAuditCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(cursor)) return null;
  let decoded: string;
  try {
    decoded = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return null;
  }
  if (!/^[1-9][0-9]{0,18}$/.test(decoded) || BigInt(decoded) > MAX_SEQ) return null;
  // Only the canonical spelling counts, so one page has exactly one cursor.
  return encodeAuditCursor(decoded) === cursor ? decoded : null;
}

// ---- fields ------------------------------------------------------------------------------

const CURSOR_MESSAGE = "This cursor is not one Tether issued (it may be cut off or edited). Start again from the newest events without it.";

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

function blankToUndefined(v: unknown): unknown {
  return typeof v === "string" && v.trim() === "" ? undefined : v;
}

/** Repeated keys or comma-separated values; sorted and de-duplicated so equal filters compare equal. */
function many<const T extends readonly string[]>(values: T, message: (bad: string) => string) {
  return z.preprocess(
    (v) => {
      if (v === undefined) return undefined;
      const list = (Array.isArray(v) ? v : [v]).flatMap((s) => (typeof s === "string" ? s.split(",") : [s]));
      const cleaned = list.map((s) => (typeof s === "string" ? s.trim() : s)).filter((s) => s !== "");
      return cleaned.length === 0 ? undefined : [...new Set(cleaned)].sort();
    },
    z
      .array(z.string())
      .superRefine((list, ctx) => {
        // One issue on the field itself (the list was re-ordered, so an index would mislead).
        const bad = list.filter((s) => !values.includes(s));
        if (bad.length) ctx.addIssue({ code: "custom", message: bad.map(message).join(" "), input: list });
      })
      .transform((list) => list as Array<T[number]>)
      .optional(),
  );
}

const ZDateTime = z
  // Callers in code may pass a Date; the query string always gives text.
  .preprocess((v) => (v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString() : v), z.string({ error: "Use an ISO 8601 date and time." }))
  .transform((v) => v.trim())
  .pipe(z.iso.datetime({ offset: true, local: true, error: "Use an ISO 8601 date and time, e.g. 2026-11-26T09:00:00Z (no offset means UTC)." }))
  // A time without an offset is UTC: the console shows every time in UTC.
  .transform((v) => new Date(/(Z|[+-]\d{2}:?\d{2})$/i.test(v) ? v : `${v}Z`));

const text = (max: number, what: string) => z.string().trim().max(max, `${what} has at most ${max} characters.`);

const FIELDS = {
  from: single(ZDateTime),
  to: single(ZDateTime),
  actorId: single(text(200, "An actor id")),
  actorType: many(AUDIT_ACTOR_TYPES, (bad) => `Unknown actor type "${bad}"; use ${AUDIT_ACTOR_TYPES.join(", ")}.`),
  action: many(AUDIT_ACTIONS, (bad) => `Unknown action "${bad}".`),
  targetType: single(text(100, "A target type")),
  targetId: single(text(200, "A target id")),
  outcome: many(AUDIT_OUTCOMES, (bad) => `Unknown outcome "${bad}"; use ${AUDIT_OUTCOMES.join(", ")}.`),
  requestId: single(text(100, "A request id")),
  refHash: single(
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{43}$/, "Not a reference hash (43 URL-safe base64 characters); an admin makes one with “Find events that refer to a secret value”."),
  ),
  cursor: single(z.string().refine((c) => decodeAuditCursor(c) !== null, CURSOR_MESSAGE)),
  limit: single(
    z.coerce
      .number({ error: `Give a whole number from 1 to ${AUDIT_PAGE_SIZE.max}.` })
      .int(`Give a whole number from 1 to ${AUDIT_PAGE_SIZE.max}.`)
      .min(1, `Give a whole number from 1 to ${AUDIT_PAGE_SIZE.max}.`)
      .max(AUDIT_PAGE_SIZE.max, `Give a whole number from 1 to ${AUDIT_PAGE_SIZE.max}.`),
  ).transform((v) => v ?? AUDIT_PAGE_SIZE.default),
};

const FROM_AFTER_TO = "“From” must not be after “To”.";

/** The API's filter: any malformed parameter, or one it does not know, is a 422. */
export const ZAuditFilter = z.strictObject(FIELDS).superRefine((f, ctx) => {
  if (f.from && f.to && f.from > f.to) ctx.addIssue({ code: "custom", path: ["to"], message: FROM_AFTER_TO });
});

export type TAuditFilterInput = z.input<typeof ZAuditFilter>;
export type TAuditFilter = z.output<typeof ZAuditFilter>;

/**
 * The page's twin: each malformed parameter is dropped (and reported, so the page can say
 * which filters it ignored) instead of failing the whole page. Unknown keys are ignored.
 */
export function parseAuditFilterLenient(query: TQueryRecord): { filter: TAuditFilter; issues: TFieldIssue[] } {
  const issues: TFieldIssue[] = [];
  const filter: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(FIELDS)) {
    const parsed = (schema as z.ZodType).safeParse(query[key]);
    if (parsed.success) {
      if (parsed.data !== undefined) filter[key] = parsed.data;
    } else {
      issues.push({ path: key, message: parsed.error.issues[0]?.message ?? "Invalid value." });
      if (key === "limit") filter.limit = AUDIT_PAGE_SIZE.default;
    }
  }
  const result = filter as TAuditFilter;
  if (result.from && result.to && result.from > result.to) {
    issues.push({ path: "to", message: FROM_AFTER_TO });
    delete result.from;
    delete result.to;
  }
  return { filter: result, issues };
}

/** Strict parse for the API: INVALID_INPUT (422) with one issue per field. */
export function parseAuditFilter(query: unknown): TAuditFilter {
  const parsed = ZAuditFilter.safeParse(query);
  if (parsed.success) return parsed.data;
  const cursorOnly = parsed.error.issues.every((i) => i.path[0] === "cursor");
  throw new AppError("INVALID_INPUT", cursorOnly ? CURSOR_MESSAGE : "The audit filter has invalid fields.", {
    issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(root)", message: i.message })),
  });
}

// ---- normal form and URL form ------------------------------------------------------------

export type TNormalisedAuditFilter = {
  from?: string;
  to?: string;
  actorId?: string;
  actorType?: string[];
  action?: string[];
  targetType?: string;
  targetId?: string;
  outcome?: string[];
  requestId?: string;
  refHash?: string;
  limit: number;
};

/** Plain JSON, without the cursor, keys in a fixed order: what `audit.searched` records. */
export function normaliseAuditFilter(f: TAuditFilter): TNormalisedAuditFilter {
  const out: TNormalisedAuditFilter = { limit: f.limit };
  if (f.from) out.from = f.from.toISOString();
  if (f.to) out.to = f.to.toISOString();
  if (f.actorId) out.actorId = f.actorId;
  if (f.actorType?.length) out.actorType = [...f.actorType];
  if (f.action?.length) out.action = [...f.action];
  if (f.targetType) out.targetType = f.targetType;
  if (f.targetId) out.targetId = f.targetId;
  if (f.outcome?.length) out.outcome = [...f.outcome];
  if (f.requestId) out.requestId = f.requestId;
  if (f.refHash) out.refHash = f.refHash;
  return out;
}

/** The filter as a query string (repeated keys for lists); the default page size is left out. */
export function auditFilterToSearchParams(f: Partial<TAuditFilter>): URLSearchParams {
  const params = new URLSearchParams();
  const n = normaliseAuditFilter({ limit: AUDIT_PAGE_SIZE.default, ...f } as TAuditFilter);
  for (const [key, value] of Object.entries(n)) {
    if (key === "limit") continue;
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v));
  }
  if (f.limit && f.limit !== AUDIT_PAGE_SIZE.default) params.set("limit", String(f.limit));
  if (f.cursor) params.set("cursor", f.cursor);
  return params;
}

/** True when the filter narrows anything (the page size and cursor do not count). */
export function isAuditFilterActive(f: TAuditFilter): boolean {
  return Object.keys(normaliseAuditFilter(f)).some((k) => k !== "limit");
}

// ---- event DTO ---------------------------------------------------------------------------

/** What the API and the console show of an audit event: every stored field, plus its chain link. */
export const ZAuditEventDto = z.object({
  seq: z.string(),
  id: z.string(),
  occurredAt: z.date(),
  actorType: z.enum(AUDIT_ACTOR_TYPES),
  actorId: z.string().nullable(),
  actorRole: z.string().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  outcome: z.enum(AUDIT_OUTCOMES),
  reason: z.string().nullable(),
  requestId: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  payload: z.json(),
  /** Null until the sealer has linked the event into the hash chain. */
  chain: z.object({ position: z.string(), hash: z.string() }).nullable(),
});
export type TAuditEventDto = z.infer<typeof ZAuditEventDto>;

export const ZAuditEventId = z.string().uuid("Not an audit event id.");

export const ZHashReferenceInput = z.object({
  kind: z.enum(AUDIT_REFERENCE_KINDS, { error: `Choose one of: ${AUDIT_REFERENCE_KINDS.join(", ")}.` }),
  // Not trimmed here: for kind "value" a space may be part of the secret.
  value: z.string({ error: "Enter the value." }).min(1, "Enter the value.").max(4096, "A value has at most 4096 characters."),
});
export type THashReferenceInput = z.input<typeof ZHashReferenceInput>;
