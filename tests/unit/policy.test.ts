// The pure parts of the handle policy: durations in human terms, the input schema's messages,
// and the diff that becomes the policy.changed payload and the version history.
import { describe, expect, it } from "vitest";
import { describeChanges } from "@/lib/policy/describe-policy";
import { diffPolicies } from "@/lib/policy/diff-policy";
import { formatDuration, splitDuration } from "@/lib/policy/duration";
import { nextPolicySettings } from "@/lib/policy/next-policy";
import { ZPolicyInput, ZPolicySettingsInput, type TPolicySettings } from "@/lib/policy/schemas";

const BASE: TPolicySettings = {
  maxTtlMs: 3_600_000,
  defaultTtlMs: 900_000,
  maxLiveHandlesPerPrincipal: 100,
  requireSessionBinding: true,
  allowedOperations: ["tasks/get", "tasks/result", "tasks/cancel", "tasks/update"],
  pollAuditLevel: "transitions",
  minValidVersion: 1,
};

const INPUT = {
  maxTtlMs: 3_600_000,
  defaultTtlMs: 900_000,
  maxLiveHandlesPerPrincipal: 100,
  requireSessionBinding: true,
  allowedOperations: ["tasks/get"],
  pollAuditLevel: "transitions",
  invalidateOlderVersions: false,
  reason: "because",
};

describe("durations", () => {
  it.each([
    [1_000, "1 second"],
    [45_000, "45 seconds"],
    [60_000, "1 minute"],
    [5_400_000, "90 minutes"],
    [3_600_000, "1 hour"],
    [604_800_000, "7 days"],
    [1_500, "1 s 500 ms"],
    [500, "500 ms"],
  ])("formats %i ms as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("splits into the largest unit that is exact, for the form", () => {
    expect(splitDuration(3_600_000)).toEqual({ value: 1, unit: "hours" });
    expect(splitDuration(5_400_000)).toEqual({ value: 90, unit: "minutes" });
    expect(splitDuration(172_800_000)).toEqual({ value: 2, unit: "days" });
    expect(splitDuration(1_500)).toEqual({ value: 1.5, unit: "seconds" });
  });
});

describe("ZPolicyInput", () => {
  it("accepts a valid change, trims the reason and puts operations in canonical order without duplicates", () => {
    const parsed = ZPolicyInput.parse({ ...INPUT, allowedOperations: ["tasks/list", "tasks/get", "tasks/list"], reason: "  why not  " });
    expect(parsed.allowedOperations).toEqual(["tasks/get", "tasks/list"]);
    expect(parsed.reason).toBe("why not");
  });

  it("accepts the bounds: 1 second, 7 days, 1 and 100,000 handles", () => {
    expect(ZPolicyInput.safeParse({ ...INPUT, maxTtlMs: 604_800_000, defaultTtlMs: 1_000, maxLiveHandlesPerPrincipal: 100_000 }).success).toBe(true);
    expect(ZPolicyInput.safeParse({ ...INPUT, maxTtlMs: 1_000, defaultTtlMs: 1_000, maxLiveHandlesPerPrincipal: 1 }).success).toBe(true);
  });

  it("names the default TTL, with the maximum in words, when it is longer than the maximum", () => {
    const result = ZPolicyInput.safeParse({ ...INPUT, maxTtlMs: 1_800_000, defaultTtlMs: 3_600_000 });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["defaultTtlMs", "The default TTL cannot be longer than the maximum TTL (30 minutes)."],
    ]);
  });

  it("does not compare the TTLs when one of them is itself invalid", () => {
    const result = ZPolicyInput.safeParse({ ...INPUT, maxTtlMs: null, defaultTtlMs: 3_600_000 });
    expect(result.error!.issues.map((i) => [i.path.join("."), i.message])).toEqual([["maxTtlMs", "Enter the maximum TTL as a number."]]);
  });

  it("previews without a reason", () => {
    const { reason: _reason, ...settings } = INPUT;
    expect(ZPolicySettingsInput.safeParse(settings).success).toBe(true);
    expect(ZPolicyInput.safeParse(settings).success).toBe(false);
  });
});

describe("diffPolicies and nextPolicySettings", () => {
  it("lists only the settings that changed, as from → to", () => {
    const next = nextPolicySettings(BASE, { ...ZPolicySettingsInput.parse({ ...INPUT, maxTtlMs: 1_800_000 }) }, 2);
    expect(diffPolicies(BASE, next)).toEqual({
      maxTtlMs: { from: 3_600_000, to: 1_800_000 },
      allowedOperations: { from: ["tasks/get", "tasks/result", "tasks/cancel", "tasks/update"], to: ["tasks/get"] },
    });
  });

  it("treats operations in another order as unchanged, and invalidation as raising minValidVersion to the new version", () => {
    const reordered = { ...BASE, allowedOperations: ["tasks/update", "tasks/cancel", "tasks/result", "tasks/get"] };
    expect(diffPolicies(BASE, reordered)).toEqual({});
    const next = nextPolicySettings(BASE, ZPolicySettingsInput.parse({ ...INPUT, allowedOperations: BASE.allowedOperations, invalidateOlderVersions: true }), 7);
    expect(diffPolicies(BASE, next)).toEqual({ minValidVersion: { from: 1, to: 7 } });
  });

  it("describes changes in words, in the policy's order", () => {
    expect(
      describeChanges({ requireSessionBinding: { from: true, to: false }, maxTtlMs: { from: 3_600_000, to: 1_800_000 }, pollAuditLevel: { from: "transitions", to: "every_poll" } }),
    ).toEqual([
      { key: "maxTtlMs", label: "Maximum TTL", from: "1 hour", to: "30 minutes" },
      { key: "requireSessionBinding", label: "Session binding", from: "required", to: "off" },
      { key: "pollAuditLevel", label: "Poll auditing", from: "Transitions only", to: "Every poll" },
    ]);
  });
});
