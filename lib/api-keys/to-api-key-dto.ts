import "server-only";
import type { TPrismaClient } from "@/lib/db/client";
import type { TTx } from "@/lib/db/types";
import { apiKeyStatus, ZApiKeyDto, type TApiKeyDto } from "./schemas";

/** The columns an API key DTO is built from: never `hash`. */
export const API_KEY_DTO_SELECT = {
  id: true,
  name: true,
  prefix: true,
  createdAt: true,
  createdById: true,
  expiresAt: true,
  lastUsedAt: true,
  revokedAt: true,
  principal: { select: { id: true, name: true, disabledAt: true } },
} as const;

type TApiKeyDtoRow = {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  createdById: string | null;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  principal: { id: string; name: string; disabledAt: Date | null };
};

/** DTOs for key rows, with the creators' names looked up in one query (created_by_id has no foreign key). */
export async function toApiKeyDtos(db: TPrismaClient | TTx, rows: TApiKeyDtoRow[], now = new Date()): Promise<TApiKeyDto[]> {
  const creatorIds = [...new Set(rows.flatMap((r) => (r.createdById ? [r.createdById] : [])))];
  const creators = creatorIds.length
    ? await db.principal.findMany({ where: { id: { in: creatorIds } }, select: { id: true, name: true } })
    : [];
  const names = new Map(creators.map((c) => [c.id, c.name]));
  return rows.map((r) =>
    ZApiKeyDto.parse({
      id: r.id,
      name: r.name,
      prefix: r.prefix,
      principal: { id: r.principal.id, name: r.principal.name, disabled: r.principal.disabledAt !== null },
      createdAt: r.createdAt,
      // A creator whose row is gone (or the system) still shows as an id rather than vanishing.
      createdBy: r.createdById ? { id: r.createdById, name: names.get(r.createdById) ?? r.createdById } : null,
      expiresAt: r.expiresAt,
      lastUsedAt: r.lastUsedAt,
      revokedAt: r.revokedAt,
      status: apiKeyStatus(r, now),
    }),
  );
}
