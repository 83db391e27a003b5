import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPool, getPrisma } from "@/lib/db/client";
import type { Prisma } from "@/lib/db/generated/client";
import { getAuditSigningKey } from "./signing-key";
import { getTrustedAuditPublicKeys } from "./trusted-public-keys";
import { verifyAuditChain, type TDbVerifyResult } from "./verify-audit-chain";

/**
 * Verifies the whole chain now and records the outcome (shown by the Audit page's badge).
 * A failed verification is itself an audit event, so it cannot go unnoticed.
 */
export async function runAuditVerification(input: { actor: TActor; trigger: "api" | "schedule" | "cli" }): Promise<TDbVerifyResult & { keyId: string }> {
  assertCan(input.actor, "audit.read");
  const startedAt = new Date();
  const result = await verifyAuditChain(getPool(), { publicKeys: getTrustedAuditPublicKeys() });
  await getPrisma().$transaction(async (tx) => {
    await tx.auditVerificationRun.create({
      data: {
        startedAt,
        finishedAt: new Date(),
        ok: result.ok,
        events: result.events,
        checkpoints: result.checkpoints,
        lastPosition: result.lastPosition === null ? null : BigInt(result.lastPosition),
        ...(result.failure ? { failure: result.failure as Prisma.InputJsonValue } : {}),
        trigger: input.trigger,
      },
    });
    await recordAuditEvent(tx, {
      actor: input.actor,
      action: "audit.verified",
      outcome: result.ok ? "ok" : "error",
      ...(result.failure ? { reason: `${result.failure.reason} at position ${result.failure.position}` } : {}),
      payload: { ok: result.ok, events: result.events, checkpoints: result.checkpoints, lastPosition: result.lastPosition, failure: result.failure },
    });
  });
  return { ...result, keyId: getAuditSigningKey().keyId };
}
