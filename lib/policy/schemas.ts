// The handle policy at the boundaries: what an admin may submit, and what a policy version looks
// like to pages and the API. Pure (no Prisma): the policy form uses these lists and labels too.
import { z } from "zod";
import { HIGHER_IS_BETTER, type TMeasuredControl, type TMetricKind } from "@/lib/compliance/controls/types";
import { formatDuration } from "./duration";

export const POLICY_OPERATIONS = ["tasks/get", "tasks/result", "tasks/cancel", "tasks/update", "tasks/list"] as const;
export type TPolicyOperation = (typeof POLICY_OPERATIONS)[number];

export const POLL_AUDIT_LEVELS = ["transitions", "every_poll"] as const;
export type TPollAuditLevel = (typeof POLL_AUDIT_LEVELS)[number];

export const MIN_TTL_MS = 1_000;
export const MAX_TTL_CEILING_MS = 7 * 86_400_000;
export const MAX_LIVE_HANDLES_CEILING = 100_000;

/** The stored settings that make up a policy version (reason, author and time aside). */
export const POLICY_SETTING_KEYS = [
  "maxTtlMs",
  "defaultTtlMs",
  "maxLiveHandlesPerPrincipal",
  "requireSessionBinding",
  "allowedOperations",
  "pollAuditLevel",
  "minValidVersion",
] as const;
export type TPolicySettingKey = (typeof POLICY_SETTING_KEYS)[number];

export const POLICY_SETTING_LABELS: Record<TPolicySettingKey, string> = {
  maxTtlMs: "Maximum TTL",
  defaultTtlMs: "Default TTL",
  maxLiveHandlesPerPrincipal: "Live handles per principal",
  requireSessionBinding: "Session binding",
  allowedOperations: "Allowed operations",
  pollAuditLevel: "Poll auditing",
  minValidVersion: "Oldest honoured policy version",
};

export const POLL_AUDIT_LEVEL_LABELS: Record<TPollAuditLevel, string> = {
  transitions: "Transitions only",
  every_poll: "Every poll",
};

/** Operations in their canonical order, without duplicates, so equal sets compare equal. */
export function normaliseOperations(operations: readonly string[]): TPolicyOperation[] {
  return POLICY_OPERATIONS.filter((op) => operations.includes(op));
}

const ttl = (label: string) =>
  z
    .number({ error: `Enter the ${label} as a number.` })
    .int(`Enter the ${label} in whole milliseconds.`)
    .min(MIN_TTL_MS, `The ${label} must be at least 1 second.`)
    .max(MAX_TTL_CEILING_MS, `The ${label} can be at most 7 days.`);

const ZPolicySettingsShape = {
  maxTtlMs: ttl("maximum TTL"),
  defaultTtlMs: ttl("default TTL"),
  maxLiveHandlesPerPrincipal: z
    .number({ error: "Enter the number of live handles a principal may hold." })
    .int("Enter a whole number of handles.")
    .min(1, "Allow at least 1 live handle per principal.")
    .max(MAX_LIVE_HANDLES_CEILING, `Allow at most ${MAX_LIVE_HANDLES_CEILING.toLocaleString("en")} live handles per principal.`),
  requireSessionBinding: z.boolean({ error: "Choose whether handles are bound to their session." }),
  allowedOperations: z
    .array(z.enum(POLICY_OPERATIONS, { error: `Choose operations from: ${POLICY_OPERATIONS.join(", ")}.` }), {
      error: "Choose the operations a handle allows.",
    })
    .min(1, "Allow at least one operation; a handle that allows nothing cannot be used.")
    .transform(normaliseOperations),
  pollAuditLevel: z.enum(POLL_AUDIT_LEVELS, { error: "Choose how plain polls are audited: transitions only, or every poll." }),
  invalidateOlderVersions: z.boolean({ error: "Choose whether handles issued under older versions stay valid." }),
};

// Runs whenever both TTLs are valid numbers, even if other fields failed, so one submission
// shows every problem at once.
function checkDefaultWithinMax<T extends z.ZodType<{ maxTtlMs: number; defaultTtlMs: number }>>(schema: T): T {
  return schema.refine((v) => v.defaultTtlMs <= v.maxTtlMs, {
    path: ["defaultTtlMs"],
    error: (issue) => {
      const max = (issue.input as { maxTtlMs?: unknown } | undefined)?.maxTtlMs;
      return `The default TTL cannot be longer than the maximum TTL${typeof max === "number" ? ` (${formatDuration(max)})` : ""}.`;
    },
    when: (payload) => {
      const v = payload.value as { maxTtlMs?: unknown; defaultTtlMs?: unknown } | undefined;
      return ZPolicySettingsShape.maxTtlMs.safeParse(v?.maxTtlMs).success && ZPolicySettingsShape.defaultTtlMs.safeParse(v?.defaultTtlMs).success;
    },
  });
}

/** The settings alone: what the preview of a change takes (a reason is needed only to save). */
export const ZPolicySettingsInput = checkDefaultWithinMax(z.object(ZPolicySettingsShape));
export type TPolicySettingsInput = z.infer<typeof ZPolicySettingsInput>;

/** A policy change as an admin submits it. */
export const ZPolicyInput = checkDefaultWithinMax(
  z.object({
    ...ZPolicySettingsShape,
    reason: z
      .string({ error: "Give a reason for the change (at least 3 characters)." })
      .trim()
      .min(3, "Give a reason for the change (at least 3 characters).")
      .max(500, "A reason has at most 500 characters."),
  }),
);
export type TPolicyInput = z.infer<typeof ZPolicyInput>;

export const ZPolicySettings = z.object({
  maxTtlMs: z.number().int(),
  defaultTtlMs: z.number().int(),
  maxLiveHandlesPerPrincipal: z.number().int(),
  requireSessionBinding: z.boolean(),
  allowedOperations: z.array(z.string()),
  pollAuditLevel: z.enum(POLL_AUDIT_LEVELS),
  minValidVersion: z.number().int(),
});
export type TPolicySettings = z.infer<typeof ZPolicySettings>;

/** Just the stored settings of a policy version (what a new version carries over unless changed). */
export function policySettingsOf(policy: TPolicySettings): TPolicySettings {
  return Object.fromEntries(POLICY_SETTING_KEYS.map((key) => [key, policy[key]])) as TPolicySettings;
}

/** One field's change between two versions. */
export type TPolicyChange = { from: z.core.util.JSONType; to: z.core.util.JSONType };
export type TPolicyChanges = Partial<Record<TPolicySettingKey, TPolicyChange>>;

/** The policy in force, as the gateway and pages read it. */
export type TPolicy = TPolicySettings & {
  version: number;
  thresholds: unknown;
  reason: string;
  createdAt: Date;
  createdById: string | null;
};

/** A version in the history: who made it, when, why, and what it changed from the version before. */
export const ZPolicyVersionDto = ZPolicySettings.extend({
  version: z.number().int(),
  reason: z.string(),
  createdAt: z.date(),
  createdBy: z.object({ id: z.string(), name: z.string(), email: z.string().nullable() }).nullable(),
  /** Null for the first version, and for the oldest one listed when older ones were cut off. */
  changes: z.record(z.string(), z.object({ from: z.json(), to: z.json() })).nullable(),
});
export type TPolicyVersionDto = z.infer<typeof ZPolicyVersionDto>;

/** What saving a change would do, computed with the same predicates as the change itself. */
export const ZPolicyPreview = z.object({
  baseVersion: z.number().int(),
  nextVersion: z.number().int(),
  changes: z.record(z.string(), z.object({ from: z.json(), to: z.json() })),
  /** Live handles the change revokes (issued under an older version, or older than the new maximum TTL). */
  revoked: z.number().int(),
  /** Live handles whose expiry is brought forward to their creation time + the new maximum TTL. */
  clamped: z.number().int(),
});
export type TPolicyPreview = z.infer<typeof ZPolicyPreview>;

export type TPolicyChangeResult = { version: number; revoked: number; clamped: number };

// ---- Compliance thresholds (issue 7) ----
// The policy's `thresholds` JSON as an admin edits it: control id → {target, partial}. What is valid
// comes from each control's own definition (its metric kind and direction, ../compliance/controls),
// passed in rather than imported here, so this module stays free of the controls' SQL and the policy
// form can keep importing it.

/** What a threshold is checked against: a measured control as defined in lib/compliance/controls. */
export type TThresholdControl = Pick<TMeasuredControl, "id" | "title" | "metric" | "unit" | "defaultThreshold">;

/** The values a threshold of each metric kind may take (see TMetricKind). */
export const THRESHOLD_RANGES: Record<TMetricKind, { min: number; max: number; integer: boolean; describe: string }> = {
  ratio: { min: 0, max: 1, integer: false, describe: "a share from 0 to 1 (1 = 100 %)" },
  count: { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true, describe: "a whole number, 0 or more" },
  duration_ms: { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true, describe: "whole milliseconds, 0 or more" },
  // H-13's target is also the longest period a report may cover (lib/compliance/thresholds.ts
  // ignores a retention under one day), so a days target starts at 1; a partial bound may be 0.
  days: { min: 0, max: 36_500, integer: true, describe: "whole days, up to 36,500" },
};

const ZThresholdNumber = (label: string) => z.number({ error: `Enter the ${label} as a number.` }).finite(`Enter the ${label} as a number.`);

/** One control's threshold; range and direction are checked against the control in the refinement below. */
export const ZThresholdValue = z.strictObject(
  { target: ZThresholdNumber("target"), partial: ZThresholdNumber("partial bound").nullable() },
  { error: "Give the threshold as {target, partial} (partial may be null)." },
);
export type TThresholdValue = z.infer<typeof ZThresholdValue>;

/** Why a threshold is not valid for its control, per field; empty when it is. */
export function thresholdProblems(control: TThresholdControl, value: TThresholdValue): Array<{ field: "target" | "partial"; message: string }> {
  const range = THRESHOLD_RANGES[control.metric];
  const problems: Array<{ field: "target" | "partial"; message: string }> = [];
  const check = (field: "target" | "partial", n: number) => {
    const label = field === "target" ? "target" : "partial bound";
    if (n < range.min || n > range.max || (range.integer && !Number.isInteger(n))) {
      problems.push({ field, message: `${control.id} (${control.unit}): the ${label} must be ${range.describe}.` });
      return false;
    }
    if (field === "target" && control.metric === "days" && n < 1) {
      problems.push({ field, message: `${control.id} (${control.unit}): the target must be at least 1 day.` });
      return false;
    }
    return true;
  };
  const targetOk = check("target", value.target);
  if (value.partial === null) return problems;
  if (!check("partial", value.partial) || !targetOk) return problems;
  // The partial band lies between the partial bound and the target, on the failing side of the target.
  const higherIsBetter = HIGHER_IS_BETTER[control.metric];
  if (higherIsBetter ? value.partial >= value.target : value.partial <= value.target) {
    problems.push({
      field: "partial",
      message: `${control.id}: higher values are ${higherIsBetter ? "better" : "worse"}, so the partial bound must be ${higherIsBetter ? "below" : "above"} the target (${value.target}), or empty for no partial band.`,
    });
  }
  return problems;
}

/** A thresholds change as an admin submits it, checked against the given measured controls. */
export function complianceThresholdsInputSchema(controls: readonly TThresholdControl[]) {
  const byId = new Map(controls.map((c) => [c.id, c]));
  return z.object({
    thresholds: z
      .record(z.string(), ZThresholdValue, { error: "Give the thresholds as an object from control id to {target, partial}." })
      .superRefine(
        (thresholds, ctx) => {
          if (!thresholds || typeof thresholds !== "object" || Array.isArray(thresholds)) return; // the record's own issue says what is wrong
          const entries = Object.entries(thresholds as Record<string, unknown>);
          if (entries.length === 0) ctx.addIssue({ code: "custom", message: "Give the threshold of at least one control." });
          for (const [id, raw] of entries) {
            const control = byId.get(id);
            if (!control) {
              ctx.addIssue({ code: "custom", path: [id], message: `${id} is not a measured control; thresholds exist for ${[...byId.keys()].join(", ")}.` });
              continue;
            }
            // Entries that are not {target, partial} numbers have their issue already.
            const value = ZThresholdValue.safeParse(raw);
            if (!value.success) continue;
            for (const p of thresholdProblems(control, value.data)) ctx.addIssue({ code: "custom", path: [id, p.field], message: p.message });
          }
        },
        // Also when some entries failed their shape, so one submission shows every problem at once.
        { when: () => true },
      ),
    reason: z
      .string({ error: "Give a reason for the change (at least 3 characters)." })
      .trim()
      .min(3, "Give a reason for the change (at least 3 characters).")
      .max(500, "A reason has at most 500 characters."),
  });
}
export type TComplianceThresholdsInput = z.infer<ReturnType<typeof complianceThresholdsInputSchema>>;

/** One control's threshold before and after a change ("default" when the policy had no valid entry). */
export const ZThresholdChange = z.object({
  from: z.object({ target: z.number(), partial: z.number().nullable(), source: z.enum(["policy", "default"]) }),
  to: z.object({ target: z.number(), partial: z.number().nullable() }),
});
export type TThresholdChange = z.infer<typeof ZThresholdChange>;

export const ZComplianceThresholdsChangeResult = z.object({ version: z.number().int(), changes: z.record(z.string(), ZThresholdChange) });
export type TComplianceThresholdsChangeResult = z.infer<typeof ZComplianceThresholdsChangeResult>;

/** A threshold in words for pages: "0.9 (partial 0.8)", or the target alone without a partial band. */
export function formatThreshold(t: { target: number; partial: number | null }): string {
  return t.partial === null ? String(t.target) : `${t.target} (partial ${t.partial})`;
}
