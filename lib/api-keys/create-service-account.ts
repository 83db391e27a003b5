import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { AppError, invalidInput } from "@/lib/errors";
import { ZCreateServiceAccountInput, type TServiceAccountDto } from "./schemas";
import { toServiceAccountDto } from "./service-account-dto";

/**
 * Creates an agent principal (kind `service`): no email, no password, no console sign-in. It
 * authenticates with API keys, and its role governs what it may do through the REST API.
 */
export async function createServiceAccount(input: { actor: TActor; data: unknown }): Promise<TServiceAccountDto> {
  assertCan(input.actor, "keys.manage");
  const parsed = ZCreateServiceAccountInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { name, role } = parsed.data;

  return getPrisma().$transaction(async (tx) => {
    // Names tell agents apart in the inventory and the audit trail, so they are unique (ignoring
    // case). No unique index can say "among service accounts", so creations take turns.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('tether:service-accounts'))`;
    const taken = await tx.principal.findFirst({ where: { kind: "service", name: { equals: name, mode: "insensitive" } }, select: { id: true } });
    if (taken) {
      throw new AppError("CONFLICT", "A service account with this name already exists.", {
        issues: [{ path: "name", message: "A service account with this name already exists." }],
      });
    }
    const account = await tx.principal.create({ data: { kind: "service", role, name } });
    await recordAuditEvent(tx, {
      actor: input.actor,
      action: "user.created",
      target: { type: "principal", id: account.id },
      payload: { email: null, role, kind: "service" },
    });
    return toServiceAccountDto(account, 0);
  });
}
