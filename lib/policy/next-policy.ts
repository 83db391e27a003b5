import type { TPolicySettings, TPolicySettingsInput } from "./schemas";

/**
 * The settings version `version` will store, given the submitted ones. Invalidating older
 * versions means "honour only handles issued from this version on": minValidVersion = version.
 */
export function nextPolicySettings(current: TPolicySettings, input: TPolicySettingsInput, version: number): TPolicySettings {
  return {
    maxTtlMs: input.maxTtlMs,
    defaultTtlMs: input.defaultTtlMs,
    maxLiveHandlesPerPrincipal: input.maxLiveHandlesPerPrincipal,
    requireSessionBinding: input.requireSessionBinding,
    allowedOperations: input.allowedOperations,
    pollAuditLevel: input.pollAuditLevel,
    minValidVersion: input.invalidateOlderVersions ? version : current.minValidVersion,
  };
}
