// Thresholds live in the versioned handle policy (handle_policy.thresholds): a JSON object from
// control id to either a number (the target) or {target, partial}. A missing or malformed entry
// falls back to the control's documented default, and the report says which source each used.
// "H-13" (audit retention, in days) is also the longest period a report may cover.
import { z } from "zod";
import type { TControl, TThreshold } from "./controls/types";

export type TThresholdSource = "policy" | "default";
export type TEffectiveThreshold = TThreshold & { source: TThresholdSource; note?: string };

const ZEntry = z.union([
  z.number().finite(),
  z.object({ target: z.number().finite(), partial: z.number().finite().nullable().optional() }),
]);

export const RETENTION_CONTROL_ID = "H-13";
export const DEFAULT_RETENTION_DAYS = 365;

export function thresholdFor(control: TControl, thresholds: unknown): TEffectiveThreshold | null {
  if (control.kind !== "measured") return null;
  const fallback = { ...control.defaultThreshold, source: "default" as const };
  const raw = thresholds && typeof thresholds === "object" && !Array.isArray(thresholds) ? (thresholds as Record<string, unknown>)[control.id] : undefined;
  if (raw === undefined) return fallback;
  const parsed = ZEntry.safeParse(raw);
  if (!parsed.success) return { ...fallback, note: `the policy's threshold for ${control.id} is not a number or {target, partial}; the default applies` };
  if (typeof parsed.data === "number") return { target: parsed.data, partial: control.defaultThreshold.partial, source: "policy" };
  return { target: parsed.data.target, partial: parsed.data.partial ?? null, source: "policy" };
}

/** The audit retention in days (H-13's target), from the policy or the default. */
export function retentionDaysOf(thresholds: unknown): number {
  const raw = thresholds && typeof thresholds === "object" ? (thresholds as Record<string, unknown>)[RETENTION_CONTROL_ID] : undefined;
  const parsed = ZEntry.safeParse(raw);
  const days = parsed.success ? (typeof parsed.data === "number" ? parsed.data : parsed.data.target) : DEFAULT_RETENTION_DAYS;
  return days >= 1 ? days : DEFAULT_RETENTION_DAYS;
}
