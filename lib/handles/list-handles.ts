import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { Prisma } from "@/lib/db/generated/client";
import { encodeHandleCursor, parseHandleFilter, type THandleCursor, type THandleFilter, type THandleSortDir } from "./handle-filter-schema";
import { flipSortDir, handleFilterConditions, keysetCondition, orderSql, whereSql } from "./handle-filter-sql";
import { ZHandleListPage, type THandleListItem, type THandleListPage } from "./handle-list-dto";

/**
 * One page of the handle inventory: filtered, sorted and paginated in the database by keyset
 * (a cursor names the row a page starts after or ends before), so page 10,000 costs what page 1
 * does. `filter` is query input ({ status: "working", owner: [...], limit: "50", ... }; see
 * handle-filter-schema.ts), parsed strictly: BAD_REQUEST (400) for any malformed parameter.
 * Pages clean their query with parseHandleFilterLenient first and pass the cleaned form.
 */
export async function listHandles(input: { actor: TActor; filter: unknown }): Promise<THandleListPage> {
  assertCan(input.actor, "handles.read");
  const filter = parseHandleFilter(input.filter ?? {});
  const [page, policy] = await Promise.all([selectPage(filter), currentPolicyVersion()]);
  return ZHandleListPage.parse({ ...page, currentPolicyVersion: policy });
}

async function selectPage(f: THandleFilter): Promise<Omit<THandleListPage, "currentPolicyVersion">> {
  const cursor = f.cursor;
  if (cursor?.kind === "before") {
    // Read backwards from the cursor, one row more to learn whether an earlier page exists.
    const rows = (await selectHandleRows(f, { after: cursor, readDir: flipSortDir(f.dir), limit: f.limit + 1 })).reverse();
    // Fewer rows than a page before the cursor: that is the first page, shown in full.
    if (rows.length <= f.limit) return selectPage({ ...f, cursor: undefined });
    const data = rows.slice(1);
    return { data, prevCursor: cursorAt(f, data[0]!, "before"), nextCursor: cursorAt(f, data.at(-1)!, "after") };
  }
  const rows = await selectHandleRows(f, { after: cursor ?? null, readDir: f.dir, limit: f.limit + 1 });
  const data = rows.slice(0, f.limit);
  return {
    data,
    nextCursor: rows.length > f.limit ? cursorAt(f, data.at(-1)!, "after") : null,
    // Coming from a cursor, earlier rows exist: at least the one it named.
    prevCursor: cursor && data.length ? cursorAt(f, data[0]!, "before") : null,
  };
}

function cursorAt(f: THandleFilter, row: THandleListItem, kind: THandleCursor["kind"]): string {
  return encodeHandleCursor(positionOf(f, row, kind));
}

/** The keyset position of a row in the filter's order. */
export function positionOf(f: Pick<THandleFilter, "sort" | "dir">, row: THandleListItem, kind: THandleCursor["kind"]): THandleCursor {
  const value = f.sort === "created" ? row.createdAt : f.sort === "expires" ? row.expiresAt : f.sort === "lastUsed" ? (row.lastUsedAt ?? "-infinity") : String(row.useCount);
  return { sort: f.sort, dir: f.dir, kind, value, id: row.id };
}

async function currentPolicyVersion(): Promise<number | null> {
  const [row] = await getPrisma().$queryRaw<Array<{ version: number | null }>>`SELECT max(version) AS version FROM handle_policy`;
  return row?.version ?? null;
}

type TRow = {
  id: string;
  accessor: string;
  audience: string;
  toolName: string;
  wire: THandleListItem["wire"];
  status: THandleListItem["status"];
  statusMessage: string | null;
  state: THandleListItem["state"];
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
  useCount: number;
  effectiveTtlMs: number;
  policyVersion: number;
  revokedAt: Date | null;
  revokeTrigger: string | null;
  revokeReason: string | null;
  cancelState: THandleListItem["cancelState"];
  serverId: string;
  serverSlug: string;
  serverName: string;
  serverEnabled: boolean;
  serverRemoved: boolean;
  ownerId: string;
  ownerName: string;
  ownerKind: THandleListItem["owner"]["kind"];
  ownerDisabled: boolean;
  sessionId: string | null;
  sessionEnded: boolean;
};

// Only the columns the inventory shows: never token_hash, token_enc, upstream_task_id_enc or
// upstream_task_id_hash, not even inside the query.
const HANDLE_COLUMNS = Prisma.sql`h.id, h.accessor, h.audience, h.tool_name, h.wire, h.status, h.status_message, h.created_at, h.expires_at,
  h.expired_at, h.last_used_at, h.use_count, h.effective_ttl_ms, h.policy_version, h.revoked_at, h.revoke_trigger, h.revoke_reason,
  h.cancel_state, h.server_id, h.principal_id, h.session_id`;

/**
 * Up to `limit` rows of the filter strictly after `after` when reading in `readDir`, in that
 * order, with their server, owner and session. `extra` adds conditions (the export pins its row
 * set with one).
 */
export async function selectHandleRows(f: THandleFilter, options: TRowsOptions): Promise<THandleListItem[]> {
  const rows = await getPrisma().$queryRaw<TRow[]>(handleRowsSql(f, options));
  return rows.map(toItem);
}

type TRowsOptions = { after: THandleCursor | null; readDir: THandleSortDir; limit: number; extra?: Prisma.Sql[] };

/** The statement behind selectHandleRows (the bench EXPLAINs it). The page is cut from `handle` alone, by one index scan, and only then joined. */
export function handleRowsSql(f: THandleFilter, options: TRowsOptions): Prisma.Sql {
  const conditions = [...handleFilterConditions(f), ...(options.extra ?? [])];
  if (options.after) conditions.push(keysetCondition(options.after, options.readDir));
  const order = orderSql(f.sort, options.readDir);
  return Prisma.sql`
    SELECT h.id::text AS id, h.accessor, h.audience, h.tool_name AS "toolName", h.wire::text AS wire, h.status::text AS status,
           h.status_message AS "statusMessage",
           CASE WHEN h.revoked_at IS NOT NULL THEN 'revoked' WHEN h.expired_at IS NOT NULL OR h.expires_at <= now() THEN 'expired' ELSE 'live' END AS state,
           h.created_at AS "createdAt", h.expires_at AS "expiresAt", h.last_used_at AS "lastUsedAt", h.use_count AS "useCount",
           h.effective_ttl_ms AS "effectiveTtlMs", h.policy_version AS "policyVersion", h.revoked_at AS "revokedAt",
           h.revoke_trigger AS "revokeTrigger", h.revoke_reason AS "revokeReason", h.cancel_state::text AS "cancelState",
           s.id::text AS "serverId", s.slug AS "serverSlug", s.name AS "serverName", s.enabled AS "serverEnabled", (s.removed_at IS NOT NULL) AS "serverRemoved",
           p.id::text AS "ownerId", p.name AS "ownerName", p.kind::text AS "ownerKind", (p.disabled_at IS NOT NULL) AS "ownerDisabled",
           h.session_id::text AS "sessionId", (gs.ended_at IS NOT NULL) AS "sessionEnded"
      FROM (SELECT ${HANDLE_COLUMNS} FROM handle h ${whereSql(conditions)} ${order} LIMIT ${options.limit}) h
      JOIN mcp_server s ON s.id = h.server_id
      JOIN principal p ON p.id = h.principal_id
      LEFT JOIN gateway_session gs ON gs.id = h.session_id
     ${order}`;
}

function toItem(r: TRow): THandleListItem {
  return {
    id: r.id,
    accessor: r.accessor,
    server: { id: r.serverId, slug: r.serverSlug, name: r.serverName, enabled: r.serverEnabled, removed: r.serverRemoved },
    audience: r.audience,
    owner: { id: r.ownerId, name: r.ownerName, kind: r.ownerKind, disabled: r.ownerDisabled },
    session: r.sessionId ? { id: r.sessionId, ended: r.sessionEnded } : null,
    toolName: r.toolName,
    wire: r.wire,
    status: r.status,
    statusMessage: r.statusMessage,
    state: r.state,
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    useCount: r.useCount,
    effectiveTtlMs: r.effectiveTtlMs,
    policyVersion: r.policyVersion,
    revokedAt: r.revokedAt?.toISOString() ?? null,
    revokeTrigger: r.revokeTrigger,
    revokeReason: r.revokeReason,
    cancelState: r.cancelState,
  };
}
