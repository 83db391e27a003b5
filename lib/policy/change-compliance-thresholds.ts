import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { thresholdFor } from "@/lib/compliance/thresholds";
import { getPrisma } from "@/lib/db/client";
import type { Prisma } from "@/lib/db/generated/client";
import { AppError, invalidInput } from "@/lib/errors";
import { settledAfter } from "@/lib/gateway/gateway-cache";
import { getCurrentPolicy } from "./get-current-policy";
import { lockPolicy } from "./lock-policy";
import { MEASURED_CONTROLS } from "./measured-controls";
import { complianceThresholdsInputSchema, policySettingsOf, type TComplianceThresholdsChangeResult, type TThresholdChange } from "./schemas";

const ZInput = complianceThresholdsInputSchema(MEASURED_CONTROLS);

/**
 * Changes compliance thresholds: inserts policy version N+1 with the same handle settings and the
 * given controls' thresholds (the others carry over as they are), with its
 * `policy.thresholds_changed` event in the same transaction. Thresholds only decide how reports
 * grade what was measured, so no handle is revoked or shortened. A control given with the value it
 * already has is not a change; if none changes, INVALID_STATE and nothing is written.
 */
export async function changeComplianceThresholds(input: { actor: TActor; data: unknown }): Promise<TComplianceThresholdsChangeResult> {
  const { actor } = input;
  assertCan(actor, "policy.manage");
  const parsed = ZInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error, "The thresholds have invalid fields.");
  const { thresholds, reason } = parsed.data;

  return settledAfter(
    getPrisma().$transaction(async (tx) => {
      // The same lock as changePolicy: versions stay consecutive, and a concurrent settings change
      // cannot be lost (each builds on the version the other committed).
      await lockPolicy(tx);
      const current = await getCurrentPolicy({ db: tx });
      const changes: Record<string, TThresholdChange> = {};
      for (const control of MEASURED_CONTROLS) {
        const next = thresholds[control.id];
        if (!next) continue;
        const before = thresholdFor(control, current.thresholds)!;
        // The value in force already (a malformed entry, read as the default, is still replaced).
        const same = before.target === next.target && before.partial === next.partial;
        if (same && (before.source === "policy" || !hasEntry(current.thresholds, control.id))) continue;
        changes[control.id] = { from: { target: before.target, partial: before.partial, source: before.source }, to: { target: next.target, partial: next.partial } };
      }
      if (Object.keys(changes).length === 0) {
        throw new AppError("INVALID_STATE", `No change: these thresholds are the ones version ${current.version} already applies.`);
      }

      const version = current.version + 1;
      // Entries for other controls (even ones this version of Tether cannot read) are kept as they are.
      const stored = { ...asObject(current.thresholds), ...Object.fromEntries(Object.entries(changes).map(([id, c]) => [id, c.to])) };
      await tx.handlePolicy.create({
        data: {
          version,
          ...policySettingsOf(current),
          thresholds: stored as Prisma.InputJsonValue,
          reason,
          createdById: actor.type === "system" ? null : actor.id,
        },
      });
      await recordAuditEvent(tx, {
        actor,
        action: "policy.thresholds_changed",
        target: { type: "policy", id: String(version) },
        reason,
        payload: { version, changes },
      });
      return { version, changes };
    }),
  );
}

function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Whether the policy has an entry (valid or not) for the control: a malformed one is replaced even by the default's value. */
function hasEntry(thresholds: unknown, id: string): boolean {
  return Object.hasOwn(asObject(thresholds), id);
}
