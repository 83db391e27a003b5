import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import type { Prisma } from "@/lib/db/generated/client";
import { AppError, invalidInput } from "@/lib/errors";
import { diffPolicies } from "./diff-policy";
import { getCurrentPolicy } from "./get-current-policy";
import { lockPolicy } from "./lock-policy";
import { nextPolicySettings } from "./next-policy";
import { applyTightening, planTightening } from "./policy-tightening";
import { ZPolicyInput, type TPolicyChangeResult } from "./schemas";
import { settledAfter } from "@/lib/gateway/gateway-cache";

const ZConfirmedRevocations = z.number().int().min(0).optional();

/**
 * Changes the handle policy: inserts version N+1 (rows are never updated) with its
 * `policy.changed` event, and in the same transaction revokes or clamps the live handles the
 * tightening affects, one audit event each. Either all of it commits or none of it.
 *
 * `confirmedRevocations` is how many revocations the admin saw in the preview and confirmed; when
 * given, a change that would now revoke more rolls back with CONFLICT instead of surprising them.
 */
export async function changePolicy(input: { actor: TActor; data: unknown; confirmedRevocations?: number }): Promise<TPolicyChangeResult> {
  const { actor } = input;
  assertCan(actor, "policy.manage");
  const parsed = ZPolicyInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error, "The policy has invalid fields.");
  const confirmed = ZConfirmedRevocations.safeParse(input.confirmedRevocations);
  if (!confirmed.success) throw invalidInput(confirmed.error);
  const { reason, ...settings } = parsed.data;

  return settledAfter(getPrisma().$transaction(
    async (tx) => {
      // Serialises changes (and the default install): each one reads the version it builds on
      // only after the previous change committed, so versions are consecutive and never collide.
      await lockPolicy(tx);
      const current = await getCurrentPolicy({ db: tx });
      const version = current.version + 1;
      const next = nextPolicySettings(current, settings, version);
      const changes = diffPolicies(current, next);
      if (Object.keys(changes).length === 0) {
        throw new AppError("INVALID_STATE", `No change: these settings are the ones version ${current.version} already has.`);
      }

      await tx.handlePolicy.create({
        data: {
          version,
          ...next,
          // Compliance thresholds are not edited here; they carry over unchanged.
          thresholds: current.thresholds as Prisma.InputJsonValue,
          reason,
          createdById: actor.type === "system" ? null : actor.id,
        },
      });
      await recordAuditEvent(tx, {
        actor,
        action: "policy.changed",
        target: { type: "policy", id: String(version) },
        reason,
        payload: { version, changes },
      });

      const effects = await applyTightening(tx, planTightening(current, next, version), { actor, reason });
      if (confirmed.data !== undefined && effects.revoked > confirmed.data) {
        // Throwing rolls back the new version and every revocation with it.
        throw new AppError(
          "CONFLICT",
          `This change now revokes ${effects.revoked} live handle${effects.revoked === 1 ? "" : "s"}, more than the ${confirmed.data} you confirmed. Check the preview and save again.`,
          { details: { revoked: effects.revoked } },
        );
      }
      return { version, ...effects };
    },
    // Waiting for a concurrent change's lock counts against the timeout; a change that revokes a
    // few thousand handles writes as many audit rows.
    { maxWait: 10_000, timeout: 60_000 },
  ));
}
