import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { AppError, invalidInput } from "@/lib/errors";
import { endPrincipalGatewayAccess } from "@/lib/gateway/end-principal-gateway-access";
import { ZSetServiceAccountDisabledInput, type TServiceAccountDto } from "./schemas";
import { activeKeyWhere, toServiceAccountDto } from "./service-account-dto";
import { settledAfter } from "@/lib/gateway/gateway-cache";

/**
 * Disables or re-enables an agent. Disabling ends its gateway sessions and revokes its live task
 * handles in the same transaction (they do not come back). Its API keys are kept, not revoked: authentication refuses
 * every key of a disabled principal (authenticateApiKey), and re-enabling brings them back
 * without handing out new secrets. The audit payload records how many keys that silenced.
 */
export async function setServiceAccountDisabled(input: { actor: TActor; data: unknown }): Promise<TServiceAccountDto> {
  assertCan(input.actor, "keys.manage");
  const parsed = ZSetServiceAccountDisabledInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { principalId, disabled, reason } = parsed.data;

  return settledAfter(getPrisma().$transaction(async (tx) => {
    const account = await tx.principal.findUnique({ where: { id: principalId } });
    if (!account || account.kind !== "service") throw new AppError("NOT_FOUND", "No such service account.");
    const wrongState = () =>
      new AppError("INVALID_STATE", disabled ? "This service account is already disabled." : "This service account is already enabled.");
    if (Boolean(account.disabledAt) === disabled) throw wrongState();

    // Guarded on the state just read, so two admins toggling at once cannot both succeed.
    const now = new Date();
    const { count } = await tx.principal.updateMany({
      where: { id: principalId, disabledAt: disabled ? null : { not: null } },
      data: { disabledAt: disabled ? now : null },
    });
    if (count !== 1) throw wrongState();
    const activeKeys = await tx.apiKey.count({ where: { principalId, ...activeKeyWhere(now) } });
    if (disabled) {
      const ended = await endPrincipalGatewayAccess(tx, { principalId, actor: input.actor, reason });
      await recordAuditEvent(tx, {
        actor: input.actor,
        action: "service_account.disabled",
        target: { type: "principal", id: principalId },
        reason,
        payload: { activeKeys, keysRevoked: false, endedGatewaySessions: ended.endedSessions, revokedHandles: ended.revokedHandles },
      });
    } else {
      await recordAuditEvent(tx, {
        actor: input.actor,
        action: "service_account.enabled",
        target: { type: "principal", id: principalId },
        reason,
        payload: { activeKeys },
      });
    }
    return toServiceAccountDto({ ...account, disabledAt: disabled ? now : null }, activeKeys);
  }));
}
