import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { AppError, invalidInput } from "@/lib/errors";
import { ZChangeRoleInput, toUserDto, type TUserDto } from "./schemas";
import { lockAdmins } from "./lock-admins";

export async function changeUserRole(input: { actor: TActor; data: unknown }): Promise<TUserDto> {
  assertCan(input.actor, "users.manage");
  const parsed = ZChangeRoleInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { userId, role } = parsed.data;

  return getPrisma().$transaction(async (tx) => {
    await lockAdmins(tx);
    const user = await tx.principal.findUnique({ where: { id: userId } });
    if (!user || user.kind !== "user") throw new AppError("NOT_FOUND", "No such user.");
    if (user.role === role) return toUserDto(user);
    if (user.id === input.actor.id) throw new AppError("INVALID_STATE", "You cannot change your own role; ask another administrator.");
    if (user.role === "admin" && !user.disabledAt) {
      const admins = await tx.principal.count({ where: { role: "admin", kind: "user", disabledAt: null } });
      if (admins <= 1) throw new AppError("INVALID_STATE", "This is the last active administrator; make someone else an administrator first.");
    }
    const updated = await tx.principal.update({ where: { id: userId }, data: { role } });
    await recordAuditEvent(tx, {
      actor: input.actor,
      action: "user.role_changed",
      target: { type: "principal", id: userId },
      payload: { from: user.role, to: role },
    });
    return toUserDto(updated);
  });
}
