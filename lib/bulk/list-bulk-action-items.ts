import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { Prisma } from "@/lib/db/generated/client";
import { invalidInput } from "@/lib/errors";
import { assertCanBulk } from "./bulk-rights";
import { bulkActionNotFound, parseBulkActionId } from "./get-bulk-action";
import { ZBulkItemsPage, ZBulkItemsQuery, type TBulkItemsPage } from "./schemas";

/**
 * The per-handle results of a bulk action in processing order, paged by ordinal (`after`, `limit`
 * 1–500), optionally only one result (`pending`: not processed yet). Accessors only: the handle
 * page is one click away.
 */
export async function listBulkActionItems(input: { actor: TActor; query: Record<string, unknown> }): Promise<TBulkItemsPage> {
  assertCanBulk(input.actor, "revoke");
  const id = parseBulkActionId(input.query.id);
  const parsed = ZBulkItemsQuery.safeParse({ ...input.query, id });
  if (!parsed.success) throw invalidInput(parsed.error);
  const { after, limit, result } = parsed.data;
  const db = getPrisma();
  const [exists] = await db.$queryRaw<Array<{ id: string }>>`SELECT id::text AS id FROM bulk_action WHERE id = ${id}::uuid`;
  if (!exists) throw bulkActionNotFound();
  const conditions = [Prisma.sql`bulk_action_id = ${id}::uuid`];
  if (after !== undefined) conditions.push(Prisma.sql`ordinal > ${after}`);
  if (result === "pending") conditions.push(Prisma.sql`result IS NULL`);
  else if (result) conditions.push(Prisma.sql`result = ${result}::"BulkItemResult"`);
  const rows = await db.$queryRaw<Array<{ ordinal: number; accessor: string; result: string | null; cancelOutcome: string | null; detail: string | null; processedAt: Date | null }>>`
    SELECT ordinal, accessor, result::text AS result, cancel_outcome::text AS "cancelOutcome", detail, processed_at AS "processedAt"
      FROM bulk_action_item WHERE ${Prisma.join(conditions, " AND ")} ORDER BY ordinal LIMIT ${limit + 1}`;
  const items = rows.slice(0, limit).map((r) => ({ ...r, processedAt: r.processedAt?.toISOString() ?? null }));
  return ZBulkItemsPage.parse({ items, nextCursor: rows.length > limit ? items.at(-1)!.ordinal : null });
}
