import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { getEnv } from "@/lib/env";
import { AppError, invalidInput } from "@/lib/errors";
import { whereSql } from "@/lib/handles/handle-filter-sql";
import { assertCanBulk } from "./bulk-rights";
import { bulkSetSql, fingerprintSql, resolveSelection, selectedSql, selectionDto, type TResolvedSelection } from "./bulk-selection";
import { BULK_BREAKDOWN_SIZE, BULK_SAMPLE_SIZE, ZBulkPreview, ZPreviewBulkInput, type TBulkKind, type TBulkPreview } from "./schemas";

/**
 * Step 1 of a bulk revoke or cancel: exactly which handles it would act on, as of now. The
 * selection is the accessors chosen in the inventory or "all matching this filter" (the
 * inventory's own filter); only handles the action applies to count (live ones; for a cancel,
 * live with a task still running). Answers the exact count, a fingerprint of the set, a sample of
 * up to 20, and the breakdown by server and owner, and `asOf`: the set is pinned to handles
 * created up to then, so a handle minted after the preview never joins what the reviewer saw.
 * Reads only; requesting the action (createBulkAction) recomputes the set and refuses if it changed.
 */
export async function previewBulkAction(input: { actor: TActor; data: unknown }): Promise<TBulkPreview> {
  assertCanBulk(input.actor, "revoke");
  const parsed = ZPreviewBulkInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  assertCanBulk(input.actor, parsed.data.kind);
  const selection = resolveSelection(parsed.data.selection);
  return computeBulkPreview(parsed.data.kind, selection, await pinnedAsOf(parsed.data.asOf));
}

/** The moment a set is pinned to: the preview's asOf when given (never in the future), else now. Millisecond precision, as created_at is stored. */
export async function pinnedAsOf(requested: Date | undefined): Promise<Date> {
  const [row] = await getPrisma().$queryRaw<Array<{ now: Date }>>`SELECT date_trunc('milliseconds', now()) AS now`;
  const now = row!.now;
  if (!requested) return now;
  if (requested.getTime() < now.getTime() - 24 * 3_600_000) {
    throw new AppError("INVALID_INPUT", "This preview is more than a day old. Preview again.", { issues: [{ path: "asOf", message: "Preview again." }] });
  }
  return requested < now ? requested : now;
}

type TCountRow = { n: number; fingerprint: string };
type TSampleRow = { accessor: string; server: string; owner: string; toolName: string; status: TBulkPreview["sample"][number]["status"]; createdAt: Date; expiresAt: Date };
type TServerRow = { id: string; slug: string; name: string; count: number; groups: number };
type TOwnerRow = { id: string; name: string; kind: "user" | "service" | "system"; count: number; groups: number };

/** The preview of a checked selection, pinned to `asOf`. */
export async function computeBulkPreview(kind: TBulkKind, selection: TResolvedSelection, asOf: Date): Promise<TBulkPreview> {
  const db = getPrisma();
  const where = whereSql(bulkSetSql(kind, selection, asOf));
  const [[counted], [named], sample, servers, owners] = await Promise.all([
    db.$queryRaw<TCountRow[]>`SELECT count(*)::int AS n, ${fingerprintSql()} AS fingerprint FROM handle h ${where}`,
    selection.type === "accessors"
      ? Promise.resolve([{ n: selection.accessors.length }])
      : db.$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM handle h ${whereSql(selectedSql(selection, asOf))}`,
    db.$queryRaw<TSampleRow[]>`
      SELECT h.accessor, s.slug AS server, p.name AS owner, h.tool_name AS "toolName", h.status::text AS status, h.created_at AS "createdAt", h.expires_at AS "expiresAt"
        FROM (SELECT h.accessor, h.server_id, h.principal_id, h.tool_name, h.status, h.created_at, h.expires_at, h.id
                FROM handle h ${where} ORDER BY h.created_at DESC, h.id LIMIT ${BULK_SAMPLE_SIZE}) h
        JOIN mcp_server s ON s.id = h.server_id JOIN principal p ON p.id = h.principal_id
       ORDER BY h.created_at DESC, h.id`,
    db.$queryRaw<TServerRow[]>`
      WITH g AS (SELECT h.server_id, count(*)::int AS n FROM handle h ${where} GROUP BY h.server_id)
      SELECT s.id::text AS id, s.slug, s.name, g.n AS count, (count(*) OVER ())::int AS groups
        FROM g JOIN mcp_server s ON s.id = g.server_id ORDER BY g.n DESC, s.slug LIMIT ${BULK_BREAKDOWN_SIZE}`,
    db.$queryRaw<TOwnerRow[]>`
      WITH g AS (SELECT h.principal_id, count(*)::int AS n FROM handle h ${where} GROUP BY h.principal_id)
      SELECT p.id::text AS id, p.name, p.kind::text AS kind, g.n AS count, (count(*) OVER ())::int AS groups
        FROM g JOIN principal p ON p.id = g.principal_id ORDER BY g.n DESC, p.name, p.id LIMIT ${BULK_BREAKDOWN_SIZE}`,
  ]);
  const count = counted!.n;
  const threshold = getEnv().TETHER_BULK_APPROVAL_THRESHOLD;
  return ZBulkPreview.parse({
    kind,
    count,
    fingerprint: counted!.fingerprint,
    asOf: asOf.toISOString(),
    notApplicable: Math.max(0, named!.n - count),
    sample: sample.map((r) => ({ ...r, createdAt: r.createdAt.toISOString(), expiresAt: r.expiresAt.toISOString() })),
    byServer: servers.map(({ groups: _g, ...r }) => r),
    byOwner: owners.map(({ groups: _g, ...r }) => r),
    moreServers: Math.max(0, (servers[0]?.groups ?? 0) - servers.length),
    moreOwners: Math.max(0, (owners[0]?.groups ?? 0) - owners.length),
    needsApproval: count > threshold,
    approvalThreshold: threshold,
    selection: selectionDto(selection),
  });
}
