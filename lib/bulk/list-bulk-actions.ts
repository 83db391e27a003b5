import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { Prisma } from "@/lib/db/generated/client";
import { AppError, invalidInput } from "@/lib/errors";
import { assertCanBulk } from "./bulk-rights";
import { BULK_ACTION_SELECT, toBulkListItem, type TBulkActionRow } from "./get-bulk-action";
import { ZBulkList, ZBulkListQuery, type TBulkList } from "./schemas";

/**
 * Bulk actions, newest first, those awaiting approval included (a reviewer finds what waits for a
 * second pair of eyes here): `status` narrows, `limit` 1–200, `before` pages on by keyset.
 */
export async function listBulkActions(input: { actor: TActor; query?: Record<string, unknown> }): Promise<TBulkList> {
  assertCanBulk(input.actor, "revoke");
  const parsed = ZBulkListQuery.safeParse(input.query ?? {});
  if (!parsed.success) throw invalidInput(parsed.error);
  const { status, limit, before } = parsed.data;
  const conditions: Prisma.Sql[] = [];
  if (status) conditions.push(Prisma.sql`b.status = ${status}::"BulkActionStatus"`);
  if (before) {
    const cursor = decodeCursor(before);
    conditions.push(Prisma.sql`(b.requested_at, b.id) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)`);
  }
  const where = conditions.length ? Prisma.sql`WHERE ${Prisma.join(conditions, " AND ")}` : Prisma.empty;
  const rows = await getPrisma().$queryRaw<TBulkActionRow[]>`
    ${BULK_ACTION_SELECT} ${where} ORDER BY b.requested_at DESC, b.id DESC LIMIT ${limit + 1}`;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return ZBulkList.parse({
    data: page.map(toBulkListItem),
    nextCursor: rows.length > limit && last ? encodeCursor(last.requestedAt, last.id) : null,
  });
}

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString("base64url");
}

function decodeCursor(cursor: string): { at: string; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  if (!at || !id || Number.isNaN(Date.parse(at)) || !/^[0-9a-f-]{36}$/.test(id)) {
    throw new AppError("INVALID_INPUT", "This cursor is not one Tether issued. Start again from the first page.", { issues: [{ path: "before", message: "Not a cursor." }] });
  }
  return { at, id };
}
