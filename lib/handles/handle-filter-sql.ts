import "server-only";
import { Prisma } from "@/lib/db/generated/client";
import type { THandleCursor, THandleFilter, THandlePreset, THandleSort, THandleSortDir } from "./handle-filter-schema";

// The inventory filter as SQL on `handle h`, shared by the list, the facets and the export. Every
// value is a bound parameter. Written for the indexes of migration 20261126060000_handle_inventory:
// each filter the bench measures has an index that yields rows in the sort order, so a page reads
// about `limit` index entries whether it is the first or the ten-thousandth.

/**
 * Not revoked, not expired. `expired_at IS NULL` is implied by `expires_at > now()` (the sweeper
 * marks only handles past their expiry) but spelled out so the planner can use the small partial
 * index handle_unexpired_created_idx instead of walking history.
 */
export const LIVE_SQL = Prisma.sql`(h.revoked_at IS NULL AND h.expired_at IS NULL AND h.expires_at > now())`;
const REVOKED_SQL = Prisma.sql`h.revoked_at IS NOT NULL`;
const EXPIRED_SQL = Prisma.sql`(h.revoked_at IS NULL AND (h.expired_at IS NOT NULL OR h.expires_at <= now()))`;

const PRESET_SQL: Record<THandlePreset, Prisma.Sql> = {
  live: LIVE_SQL,
  expiring: Prisma.sql`${LIVE_SQL} AND h.expires_at <= now() + interval '1 hour'`,
  // The id lists are computed once per query (ARRAY(subquery) is an init plan), so they are index
  // conditions on handle rather than a join; principals and servers are small tables.
  orphaned: Prisma.sql`${LIVE_SQL} AND (h.principal_id = ANY(ARRAY(SELECT p.id FROM principal p WHERE p.disabled_at IS NOT NULL))
    OR h.server_id = ANY(ARRAY(SELECT s.id FROM mcp_server s WHERE s.removed_at IS NOT NULL OR NOT s.enabled)))`,
  // Ended sessions are most sessions, so this one probes each live handle's session instead.
  ended_sessions: Prisma.sql`${LIVE_SQL} AND EXISTS (SELECT 1 FROM gateway_session gs WHERE gs.id = h.session_id AND gs.ended_at IS NOT NULL)`,
  old_policy: Prisma.sql`${LIVE_SQL} AND h.policy_version < (SELECT max(hp.version) FROM handle_policy hp)`,
};

export type TFacetDimension = "status" | "server" | "owner";

/** The filter's conditions (no cursor). `exclude` leaves out one facet's own dimension. */
export function handleFilterConditions(f: THandleFilter, options: { exclude?: TFacetDimension } = {}): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  if (f.preset) where.push(PRESET_SQL[f.preset]);
  if (f.status?.length && options.exclude !== "status") where.push(Prisma.sql`h.status IN (${Prisma.join(f.status.map((s) => Prisma.sql`${s}::"TaskStatus"`))})`);
  if (f.server?.length && options.exclude !== "server") {
    where.push(Prisma.sql`h.server_id = ANY(ARRAY(SELECT s.id FROM mcp_server s WHERE s.slug IN (${Prisma.join(f.server)})))`);
  }
  if (f.owner?.length && options.exclude !== "owner") where.push(Prisma.sql`h.principal_id IN (${Prisma.join(f.owner.map((id) => Prisma.sql`${id}::uuid`))})`);
  if (f.session) where.push(Prisma.sql`h.session_id = ${f.session}::uuid`);
  if (f.tool) where.push(Prisma.sql`h.tool_name = ${f.tool}`);
  // The schema allows only [a-z0-9_-] in a prefix; "_" is a LIKE wildcard and is escaped.
  if (f.accessor) where.push(Prisma.sql`lower(h.accessor) LIKE ${`${f.accessor.replace(/_/g, "\\_")}%`}`);
  if (f.createdFrom) where.push(Prisma.sql`h.created_at >= ${f.createdFrom.toISOString()}::timestamptz`);
  if (f.createdTo) where.push(Prisma.sql`h.created_at <= ${f.createdTo.toISOString()}::timestamptz`);
  if (f.expiresFrom) where.push(Prisma.sql`h.expires_at >= ${f.expiresFrom.toISOString()}::timestamptz`);
  if (f.expiresTo) where.push(Prisma.sql`h.expires_at <= ${f.expiresTo.toISOString()}::timestamptz`);
  if (f.state?.length) {
    const states = { live: LIVE_SQL, revoked: REVOKED_SQL, expired: EXPIRED_SQL };
    where.push(Prisma.sql`(${Prisma.join(f.state.map((s) => states[s]), " OR ")})`);
  }
  if (f.cancel?.length) where.push(Prisma.sql`h.cancel_state IN (${Prisma.join(f.cancel.map((c) => Prisma.sql`${c}::"CancelState"`))})`);
  if (f.policy?.length) where.push(Prisma.sql`h.policy_version IN (${Prisma.join(f.policy)})`);
  if (f.wire?.length) where.push(Prisma.sql`h.wire IN (${Prisma.join(f.wire.map((w) => Prisma.sql`${w}::"TaskWire"`))})`);
  return where;
}

export function whereSql(conditions: Prisma.Sql[]): Prisma.Sql {
  return conditions.length ? Prisma.sql`WHERE ${Prisma.join(conditions, " AND ")}` : Prisma.empty;
}

// ---- order and keyset ----------------------------------------------------------------------
// Order: <key> <dir>, then id in the opposite direction — the shape of the existing
// (x, created_at DESC, id) indexes, so one index scan serves both directions. A never-used handle
// sorts on last use as -infinity (an expression index covers it).

const SORT_KEY: Record<THandleSort, { sql: Prisma.Sql; cast: Prisma.Sql }> = {
  created: { sql: Prisma.sql`h.created_at`, cast: Prisma.sql`timestamptz` },
  expires: { sql: Prisma.sql`h.expires_at`, cast: Prisma.sql`timestamptz` },
  lastUsed: { sql: Prisma.sql`COALESCE(h.last_used_at, '-infinity'::timestamptz)`, cast: Prisma.sql`timestamptz` },
  useCount: { sql: Prisma.sql`h.use_count`, cast: Prisma.sql`int` },
};

const flip = (dir: THandleSortDir): THandleSortDir => (dir === "asc" ? "desc" : "asc");
const word = (dir: THandleSortDir) => (dir === "asc" ? Prisma.sql`ASC` : Prisma.sql`DESC`);

/** ORDER BY for reading in `dir` (the page's own direction, or its reverse for a "before" page). */
export function orderSql(sort: THandleSort, dir: THandleSortDir, alias = "h"): Prisma.Sql {
  const key = alias === "h" ? SORT_KEY[sort].sql : Prisma.raw(`${alias}.sort_key`);
  return Prisma.sql`ORDER BY ${key} ${word(dir)}, ${Prisma.raw(`${alias}.id`)} ${word(flip(dir))}`;
}

/** The sort key as a column, so pages of rows can be ordered again after a join. */
export function sortKeySql(sort: THandleSort): Prisma.Sql {
  return SORT_KEY[sort].sql;
}

/**
 * Rows strictly after the cursor's row when reading in `dir`. Bounded on the key alone (an index
 * range), with the id tie-break as a filter: only rows with an equal key are read twice.
 */
export function keysetCondition(cursor: THandleCursor, dir: THandleSortDir): Prisma.Sql {
  const { sql: key, cast } = SORT_KEY[cursor.sort];
  const value = Prisma.sql`${cursor.value}::${cast}`;
  const id = Prisma.sql`${cursor.id}::uuid`;
  return dir === "desc"
    ? Prisma.sql`(${key} <= ${value} AND (${key} < ${value} OR h.id > ${id}))`
    : Prisma.sql`(${key} >= ${value} AND (${key} > ${value} OR h.id < ${id}))`;
}

export { flip as flipSortDir };
