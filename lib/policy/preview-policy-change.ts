import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { invalidInput } from "@/lib/errors";
import { diffPolicies } from "./diff-policy";
import { getCurrentPolicy } from "./get-current-policy";
import { nextPolicySettings } from "./next-policy";
import { countTightening, planTightening } from "./policy-tightening";
import { ZPolicyPreview, ZPolicySettingsInput, type TPolicyPreview } from "./schemas";

/**
 * What changePolicy would do with these settings right now: the fields it changes and how many
 * live handles it revokes and clamps. Counts with the same predicates changePolicy executes, and
 * writes nothing. A reason is not needed to preview (it is ignored if present).
 */
export async function previewPolicyChange(input: { actor: TActor; data: unknown }): Promise<TPolicyPreview> {
  assertCan(input.actor, "policy.manage");
  const parsed = ZPolicySettingsInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error, "The policy has invalid fields.");

  // One snapshot for the policy read and both counts.
  return getPrisma().$transaction(
    async (tx) => {
      const current = await getCurrentPolicy({ db: tx });
      const version = current.version + 1;
      const next = nextPolicySettings(current, parsed.data, version);
      const counts = await countTightening(tx, planTightening(current, next, version));
      return ZPolicyPreview.parse({ baseVersion: current.version, nextVersion: version, changes: diffPolicies(current, next), ...counts });
    },
    { isolationLevel: "RepeatableRead" },
  );
}
