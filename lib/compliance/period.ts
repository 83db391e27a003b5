// The period a report covers: presets (last 7 / 30 / 90 days, a calendar quarter) or custom
// bounds, always [start, end) in UTC. Pure: the page, the API and the tests share it.
import { z } from "zod";
import { AppError } from "@/lib/errors";

export const PERIOD_PRESETS = ["last_7_days", "last_30_days", "last_90_days", "quarter", "custom"] as const;
export type TPeriodPreset = (typeof PERIOD_PRESETS)[number];

export const PRESET_LABELS: Record<TPeriodPreset, string> = {
  last_7_days: "Last 7 days",
  last_30_days: "Last 30 days",
  last_90_days: "Last 90 days",
  quarter: "A quarter",
  custom: "Custom",
};

const PRESET_DAYS: Partial<Record<TPeriodPreset, number>> = { last_7_days: 7, last_30_days: 30, last_90_days: 90 };

const DAY_MS = 86_400_000;
/** The shortest period worth a report. */
export const MIN_PERIOD_MS = 60_000;
/** A period may end this far after "now" (clocks of the browser and the server differ). */
const FUTURE_LEEWAY_MS = 60_000;
/** Previous periods of the same length shown in each control's trend, besides the period itself. */
export const TREND_PREVIOUS_PERIODS = 5;

// A date (midnight UTC) or a date-time with Z or an offset; a date-time without one is read as UTC.
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

const isoInstant = (label: string) =>
  z
    .string({ error: `Give the ${label} as an ISO 8601 date or date-time, e.g. 2026-07-01 or 2026-07-01T00:00:00Z.` })
    .trim()
    .regex(ISO, `Give the ${label} as an ISO 8601 date or date-time, e.g. 2026-07-01 or 2026-07-01T00:00:00Z.`)
    .transform((v, ctx) => {
      const normalised = /[T ]\d{2}:\d{2}/.test(v) && !/(Z|[+-]\d{2}:?\d{2})$/.test(v) ? `${v.replace(" ", "T")}Z` : v.replace(" ", "T");
      const d = new Date(normalised);
      // JavaScript rolls 2026-02-30 over to March; a calendar date must exist as written.
      const [y, m, day] = v.slice(0, 10).split("-").map(Number) as [number, number, number];
      const calendar = new Date(Date.UTC(y, m - 1, day));
      if (Number.isNaN(d.getTime()) || calendar.getUTCMonth() !== m - 1 || calendar.getUTCDate() !== day) {
        ctx.addIssue({ code: "custom", message: `The ${label} is not a real date.` });
        return z.NEVER;
      }
      return d;
    });

/** What a user submits: a preset, a quarter ("2026-Q3") for the quarter preset, bounds for custom. */
export const ZPeriodInput = z
  .object({
    preset: z.enum(PERIOD_PRESETS, { error: `Choose a period: ${PERIOD_PRESETS.join(", ")}.` }),
    quarter: z
      .string()
      .trim()
      .regex(/^\d{4}-Q[1-4]$/, "Give the quarter as YYYY-Qn, e.g. 2026-Q3.")
      .optional(),
    start: isoInstant("start").optional(),
    end: isoInstant("end").optional(),
  })
  .superRefine((v, ctx) => {
    if (v.preset === "quarter" && !v.quarter) ctx.addIssue({ code: "custom", path: ["quarter"], message: "Choose the quarter, e.g. 2026-Q3." });
    if (v.preset === "custom") {
      if (!v.start) ctx.addIssue({ code: "custom", path: ["start"], message: "Give the start of the period." });
      if (!v.end) ctx.addIssue({ code: "custom", path: ["end"], message: "Give the end of the period." });
    }
  });
export type TPeriodInput = z.input<typeof ZPeriodInput>;

export type TPeriod = { start: Date; end: Date; label: string };

function quarterBounds(quarter: string): { start: Date; end: Date } {
  const [year, q] = [Number(quarter.slice(0, 4)), Number(quarter.slice(6))];
  return { start: new Date(Date.UTC(year, (q - 1) * 3, 1)), end: new Date(Date.UTC(year, q * 3, 1)) };
}

const period422 = (path: string, message: string) => new AppError("INVALID_INPUT", message, { issues: [{ path, message }] });

/**
 * The period a valid input names, checked against the clock and the audit retention: a period in
 * the future, reversed, shorter than a minute, longer than the retention or reaching back further
 * than it is a 422 with a message saying which. The current quarter ends now ("to date").
 */
export function resolvePeriod(input: z.output<typeof ZPeriodInput>, options: { now: Date; retentionDays: number }): TPeriod {
  const now = options.now.getTime();
  const retentionMs = options.retentionDays * DAY_MS;
  let start: number;
  let end: number;
  let label: string;
  const days = PRESET_DAYS[input.preset];
  if (days !== undefined) {
    end = Math.floor(now / 1000) * 1000;
    start = end - days * DAY_MS;
    label = PRESET_LABELS[input.preset];
  } else if (input.preset === "quarter") {
    const q = quarterBounds(input.quarter!);
    if (q.start.getTime() > now) throw period422("quarter", `${input.quarter} has not started yet: a report covers the past only.`);
    start = q.start.getTime();
    end = Math.min(q.end.getTime(), Math.floor(now / 1000) * 1000);
    label = q.end.getTime() > now ? `${input.quarter} (to date)` : input.quarter!;
  } else {
    start = input.start!.getTime();
    end = input.end!.getTime();
    label = "Custom";
    if (end <= start) throw period422("end", "The period is reversed: its end must come after its start.");
    if (end > now + FUTURE_LEEWAY_MS) throw period422("end", "The period ends in the future: a report covers the past only.");
    if (start > now) throw period422("start", "The period starts in the future: a report covers the past only.");
  }
  if (end - start < MIN_PERIOD_MS) throw period422("end", "The period is shorter than a minute.");
  if (end - start > retentionMs) {
    throw period422("start", `The period is longer than the audit retention of ${options.retentionDays} days; choose a shorter one.`);
  }
  if (start < now - retentionMs) {
    throw period422("start", `The period starts more than ${options.retentionDays} days ago, before the audit retention; choose a later start.`);
  }
  return { start: new Date(start), end: new Date(Math.min(end, now)), label };
}

/** The period and the TREND_PREVIOUS_PERIODS periods of the same length before it, oldest first. */
export function trendPeriods(period: { start: Date; end: Date }, previous = TREND_PREVIOUS_PERIODS): Array<{ start: Date; end: Date }> {
  const length = period.end.getTime() - period.start.getTime();
  const out: Array<{ start: Date; end: Date }> = [];
  for (let i = previous; i >= 0; i--) {
    out.push({ start: new Date(period.start.getTime() - i * length), end: new Date(period.end.getTime() - i * length) });
  }
  return out;
}

/** Quarters a user can pick: the current one and the seven before it, newest first. */
export function recentQuarters(now: Date, count = 8): string[] {
  const out: string[] = [];
  let year = now.getUTCFullYear();
  let q = Math.floor(now.getUTCMonth() / 3) + 1;
  for (let i = 0; i < count; i++) {
    out.push(`${year}-Q${q}`);
    q -= 1;
    if (q === 0) {
      q = 4;
      year -= 1;
    }
  }
  return out;
}
