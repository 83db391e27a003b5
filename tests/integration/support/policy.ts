// Changes the handle policy in a test: the current settings with the given ones overridden.
import type { TActor } from "@/lib/auth/actor";
import { changePolicy } from "@/lib/policy/change-policy";
import { getCurrentPolicy } from "@/lib/policy/get-current-policy";

export async function setPolicyFields(actor: TActor, overrides: Record<string, unknown>, reason: string): Promise<void> {
  const current = await getCurrentPolicy();
  await changePolicy({
    actor,
    data: {
      maxTtlMs: current.maxTtlMs,
      defaultTtlMs: current.defaultTtlMs,
      maxLiveHandlesPerPrincipal: current.maxLiveHandlesPerPrincipal,
      requireSessionBinding: current.requireSessionBinding,
      allowedOperations: current.allowedOperations,
      pollAuditLevel: current.pollAuditLevel,
      invalidateOlderVersions: false,
      reason,
      ...overrides,
    },
  });
}
