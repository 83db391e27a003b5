import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { Prisma } from "@/lib/db/generated/client";
import { HANDLE_STATUSES, parseHandleFilter, type THandleFilter, type THandleStatus } from "./handle-filter-schema";
import { handleFilterConditions, whereSql, type TFacetDimension } from "./handle-filter-sql";
import { ZHandleFacets, type THandleFacets } from "./handle-list-dto";

/** How many owners the owner picker lists (the largest; chosen owners are always listed too). */
export const OWNER_FACET_LIMIT = 25;
/** Servers are few, but the list is bounded all the same (chosen servers are always listed too). */
const SERVER_FACET_LIMIT = 100;

type TKind = "user" | "service" | "system";
type TServerCount = { slug: string; name: string; count: number };
type TOwnerCount = { id: string; name: string; kind: TKind; count: number };

/**
 * Counts of the status, server and owner facets for the filter (query input, parsed strictly like
 * listHandles). Each facet is counted with every other filter applied and its own left out, so
 * the picker shows what choosing another value would give. The three counts run side by side;
 * values the reader chose are always listed, with their count, even outside the largest ones.
 */
export async function countHandleFacets(input: { actor: TActor; filter: unknown }): Promise<THandleFacets> {
  assertCan(input.actor, "handles.read");
  const filter = parseHandleFilter(input.filter ?? {});
  const [status, server, owner] = await Promise.all([
    shared("status", filter, () => countStatuses(filter)),
    shared("server", filter, () => countServers(filter)).then((rows) => withChosenServers(rows, filter)),
    shared("owner", filter, () => countOwners(filter)).then((top) => withChosenOwners(top, filter)),
  ]);
  const chosen = new Set<THandleStatus>(filter.status ?? HANDLE_STATUSES);
  return ZHandleFacets.parse({
    status,
    server,
    owner: owner.rows,
    ownersTruncated: owner.truncated,
    // The status facet is counted under every other filter, so the chosen statuses add up to the total.
    total: status.filter((s) => chosen.has(s.value)).reduce((sum, s) => sum + s.count, 0),
  });
}

// A facet with nothing left to filter on (no filter at all, or only its own dimension) counts the
// whole table, a full scan at a million handles. Those counts are shared for a few seconds within
// the process (concurrent readers wait for the one query); a facet under any other filter is
// always counted afresh.
const WHOLE_TABLE_TTL_MS = 5_000;
const wholeTable = new Map<TFacetDimension, { at: number; counts: Promise<unknown> }>();

function shared<T>(dimension: TFacetDimension, f: THandleFilter, count: () => Promise<T>): Promise<T> {
  if (handleFilterConditions(f, { exclude: dimension }).length > 0) return count();
  const hit = wholeTable.get(dimension);
  if (hit && Date.now() - hit.at < WHOLE_TABLE_TTL_MS) return hit.counts as Promise<T>;
  const counts = count();
  wholeTable.set(dimension, { at: Date.now(), counts });
  counts.catch(() => wholeTable.delete(dimension));
  return counts;
}

function where(f: THandleFilter, exclude: TFacetDimension, extra: Prisma.Sql[] = []) {
  return whereSql([...handleFilterConditions(f, { exclude }), ...extra]);
}

async function countStatuses(f: THandleFilter) {
  const rows = await getPrisma().$queryRaw<Array<{ value: THandleStatus; count: number }>>`
    SELECT h.status::text AS value, count(*)::int AS count FROM handle h ${where(f, "status")} GROUP BY h.status`;
  const counts = new Map(rows.map((r) => [r.value, r.count]));
  // Every status, in lifecycle order, zero included: the picker always offers all of them.
  return HANDLE_STATUSES.map((value) => ({ value, count: counts.get(value) ?? 0 }));
}

async function countServers(f: THandleFilter): Promise<TServerCount[]> {
  return getPrisma().$queryRaw<TServerCount[]>`
    SELECT s.slug, s.name, c.count
      FROM (SELECT h.server_id, count(*)::int AS count FROM handle h ${where(f, "server")} GROUP BY h.server_id) c
      JOIN mcp_server s ON s.id = c.server_id
     ORDER BY c.count DESC, s.slug LIMIT ${SERVER_FACET_LIMIT}`;
}

async function withChosenServers(top: TServerCount[], f: THandleFilter): Promise<TServerCount[]> {
  const missing = (f.server ?? []).filter((slug) => !top.some((r) => r.slug === slug));
  if (!missing.length) return top;
  const rows = await getPrisma().$queryRaw<TServerCount[]>`
    SELECT s.slug, s.name, (SELECT count(*)::int FROM handle h ${where(f, "server", [Prisma.sql`h.server_id = s.id`])}) AS count
      FROM mcp_server s WHERE s.slug IN (${Prisma.join(missing)})`;
  // A chosen slug no server has is still listed, so it can be un-chosen.
  return [...top, ...missing.map((slug) => rows.find((r) => r.slug === slug) ?? { slug, name: slug, count: 0 })];
}

async function countOwners(f: THandleFilter): Promise<{ rows: TOwnerCount[]; groups: number }> {
  // The largest owners; `groups` says how many owners match in all.
  const rows = await getPrisma().$queryRaw<Array<TOwnerCount & { groups: number }>>`
    SELECT p.id::text AS id, p.name, p.kind::text AS kind, c.count, c.groups
      FROM (SELECT h.principal_id, count(*)::int AS count, (count(*) OVER ())::int AS groups
              FROM handle h ${where(f, "owner")} GROUP BY h.principal_id
             ORDER BY count(*) DESC, h.principal_id LIMIT ${OWNER_FACET_LIMIT}) c
      JOIN principal p ON p.id = c.principal_id
     ORDER BY c.count DESC, p.name, p.id`;
  return { rows: rows.map(({ groups: _groups, ...owner }) => owner), groups: rows[0]?.groups ?? 0 };
}

async function withChosenOwners(top: { rows: TOwnerCount[]; groups: number }, f: THandleFilter): Promise<{ rows: TOwnerCount[]; truncated: boolean }> {
  const truncated = top.groups > top.rows.length;
  const missing = (f.owner ?? []).filter((id) => !top.rows.some((r) => r.id === id));
  if (!missing.length) return { rows: top.rows, truncated };
  const rows = await getPrisma().$queryRaw<TOwnerCount[]>`
    SELECT p.id::text AS id, p.name, p.kind::text AS kind, (SELECT count(*)::int FROM handle h ${where(f, "owner", [Prisma.sql`h.principal_id = p.id`])}) AS count
      FROM principal p WHERE p.id IN (${Prisma.join(missing.map((id) => Prisma.sql`${id}::uuid`))})
     ORDER BY p.name, p.id`;
  return { rows: [...top.rows, ...rows], truncated };
}
