import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { invalidInput } from "@/lib/errors";
import { ACTIVE_PAGE_SIZE, ZActiveHandleDto, ZActiveHandlesQuery, type TActiveHandleDto } from "./handle-detail-schemas";

export type TActiveHandlesPage = { handles: TActiveHandleDto[]; nextCursor: string | null };

/**
 * The support view ("queued and running actions"): handles whose task has not ended and that are
 * neither revoked nor expired, newest first, keyset-paged by (created, id). `expired_at IS NULL`
 * lets Postgres walk the partial index of unrevoked, unexpired handles instead of the history.
 */
export async function listActiveHandles(input: { actor: TActor; query?: unknown }): Promise<TActiveHandlesPage> {
  assertCan(input.actor, "handles.read");
  const parsed = ZActiveHandlesQuery.safeParse(input.query ?? {});
  if (!parsed.success) throw invalidInput(parsed.error);
  let before: { createdAt: Date; id: string } | null = null;
  if (parsed.data.before) {
    const [ms, id] = parsed.data.before.split("_") as [string, string];
    before = { createdAt: new Date(Number(ms)), id };
  }
  const rows = await getPrisma().handle.findMany({
    where: {
      status: { in: ["working", "input_required"] },
      revokedAt: null,
      expiredAt: null,
      expiresAt: { gt: new Date() },
      ...(before ? { OR: [{ createdAt: { lt: before.createdAt } }, { createdAt: before.createdAt, id: { lt: before.id } }] } : {}),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: ACTIVE_PAGE_SIZE + 1,
    select: {
      id: true,
      accessor: true,
      toolName: true,
      status: true,
      statusMessage: true,
      cancelState: true,
      createdAt: true,
      expiresAt: true,
      lastUpdatedAt: true,
      server: { select: { slug: true, name: true } },
      principal: { select: { name: true } },
    },
  });
  const page = rows.slice(0, ACTIVE_PAGE_SIZE);
  const last = page.at(-1);
  return {
    handles: page.map((r) => ZActiveHandleDto.parse(r)),
    nextCursor: rows.length > ACTIVE_PAGE_SIZE && last ? `${last.createdAt.getTime()}_${last.id}` : null,
  };
}
