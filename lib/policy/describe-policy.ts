// Policy values in words, for pages, previews and the version history. Pure.
import { formatDuration } from "./duration";
import { POLICY_SETTING_KEYS, POLICY_SETTING_LABELS, POLL_AUDIT_LEVEL_LABELS, type TPolicySettingKey, type TPollAuditLevel } from "./schemas";

export function describeSetting(key: TPolicySettingKey, value: unknown): string {
  switch (key) {
    case "maxTtlMs":
    case "defaultTtlMs":
      return typeof value === "number" ? formatDuration(value) : String(value);
    case "maxLiveHandlesPerPrincipal":
      return typeof value === "number" ? value.toLocaleString("en") : String(value);
    case "requireSessionBinding":
      return value === true ? "required" : value === false ? "off" : String(value);
    case "allowedOperations":
      return Array.isArray(value) ? (value.length ? value.join(", ") : "none") : String(value);
    case "pollAuditLevel":
      return POLL_AUDIT_LEVEL_LABELS[value as TPollAuditLevel] ?? String(value);
    case "minValidVersion":
      return typeof value === "number" ? `v${value}` : String(value);
  }
}

/** One line per changed setting, in the order the policy lists them: "Maximum TTL: 1 hour → 30 minutes". */
export function describeChanges(changes: Partial<Record<string, { from: unknown; to: unknown }>>): Array<{ key: TPolicySettingKey; label: string; from: string; to: string }> {
  return POLICY_SETTING_KEYS.flatMap((key) => {
    const change = changes[key];
    return change ? [{ key, label: POLICY_SETTING_LABELS[key], from: describeSetting(key, change.from), to: describeSetting(key, change.to) }] : [];
  });
}
