import { POLICY_SETTING_KEYS, normaliseOperations, type TPolicyChanges, type TPolicySettings } from "./schemas";

/** The settings that differ between two versions, each as from → to. Empty when nothing changed. */
export function diffPolicies(before: TPolicySettings, after: TPolicySettings): TPolicyChanges {
  const changes: TPolicyChanges = {};
  for (const key of POLICY_SETTING_KEYS) {
    const from = key === "allowedOperations" ? normaliseOperations(before[key]) : before[key];
    const to = key === "allowedOperations" ? normaliseOperations(after[key]) : after[key];
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[key] = { from, to };
  }
  return changes;
}
