import "server-only";
import { ZServiceAccountDto, type TServiceAccountDto } from "./schemas";

/** Keys that authenticate today (when their principal is enabled): not revoked, not expired. */
export function activeKeyWhere(now: Date) {
  return { revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
}

export function toServiceAccountDto(
  p: { id: string; name: string; role: TServiceAccountDto["role"]; disabledAt: Date | null; createdAt: Date },
  activeKeys: number,
): TServiceAccountDto {
  return ZServiceAccountDto.parse({ id: p.id, name: p.name, role: p.role, disabledAt: p.disabledAt, createdAt: p.createdAt, activeKeys });
}
