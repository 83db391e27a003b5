import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { AppError, invalidInput } from "@/lib/errors";
import { lockAdmins } from "./lock-admins";
import { ZSetDisabledInput, toUserDto, type TUserDto } from "./schemas";

/** Disables (ending every console session at once) or re-enables a user. */
export async function setUserDisabled(input: { actor: TActor; data: unknown }): Promise<TUserDto> {
  assertCan(input.actor, "users.manage");
  const parsed = ZSetDisabledInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { userId, disabled, reason } = parsed.data;

  return getPrisma().$transaction(async (tx) => {
    await lockAdmins(tx);
    const user = await tx.principal.findUnique({ where: { id: userId } });
    if (!user || user.kind !== "user") throw new AppError("NOT_FOUND", "No such user.");
    if (Boolean(user.disabledAt) === disabled) {
      throw new AppError("INVALID_STATE", disabled ? "This user is already disabled." : "This user is already enabled.");
    }
    if (disabled && user.id === input.actor.id) throw new AppError("INVALID_STATE", "You cannot disable your own account.");
    if (disabled && user.role === "admin") {
      const admins = await tx.principal.count({ where: { role: "admin", kind: "user", disabledAt: null } });
      if (admins <= 1) throw new AppError("INVALID_STATE", "This is the last active administrator; it cannot be disabled.");
    }
    const updated = await tx.principal.update({ where: { id: userId }, data: { disabledAt: disabled ? new Date() : null } });
    if (disabled) {
      const { count } = await tx.consoleSession.updateMany({
        where: { principalId: userId, endedAt: null },
        data: { endedAt: new Date(), endReason: "principal_disabled" },
      });
      await recordAuditEvent(tx, {
        actor: input.actor,
        action: "user.disabled",
        target: { type: "principal", id: userId },
        reason,
        payload: { endedSessions: count },
      });
    } else {
      await recordAuditEvent(tx, { actor: input.actor, action: "user.enabled", target: { type: "principal", id: userId }, reason, payload: {} });
    }
    return toUserDto(updated);
  });
}
