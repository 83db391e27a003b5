// The handle policy at the boundaries: what an admin may submit, and what a policy version looks
// like to pages and the API. Pure (no Prisma): the policy form uses these lists and labels too.
import { z } from "zod";
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
