// Choosing a report's period, and turning measurements into statuses: pure logic.
import { describe, expect, it } from "vitest";
import type { TInterpretation } from "@/lib/compliance/controls/types";
import { evaluateControl, rollUpStatus } from "@/lib/compliance/evaluate-control";
import { recentQuarters, resolvePeriod, trendPeriods, ZPeriodInput } from "@/lib/compliance/period";
import { retentionDaysOf, thresholdFor } from "@/lib/compliance/thresholds";
import { CONTROLS_BY_ID } from "@/lib/compliance/controls";
import { AppError } from "@/lib/errors";

const NOW = new Date("2026-11-26T10:15:30.500Z");
const opts = { now: NOW, retentionDays: 365 };
const resolve = (input: unknown) => resolvePeriod(ZPeriodInput.parse(input), opts);

function refusal(input: unknown): AppError {
  try {
    resolve(input);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(422);
    return err as AppError;
  }
  throw new Error("expected a 422");
}

describe("report periods", () => {
  it("resolves the presets to [now - N days, now) to the second", () => {
    expect(resolve({ preset: "last_30_days" })).toEqual({ start: new Date("2026-10-27T10:15:30.000Z"), end: new Date("2026-11-26T10:15:30.000Z"), label: "Last 30 days" });
    expect(resolve({ preset: "last_7_days" }).start).toEqual(new Date("2026-11-19T10:15:30.000Z"));
    expect(resolve({ preset: "last_90_days" }).label).toBe("Last 90 days");
  });

  it("resolves a past quarter whole and the current one to date", () => {
    expect(resolve({ preset: "quarter", quarter: "2026-Q3" })).toEqual({ start: new Date("2026-07-01T00:00:00Z"), end: new Date("2026-10-01T00:00:00Z"), label: "2026-Q3" });
    expect(resolve({ preset: "quarter", quarter: "2026-Q4" })).toEqual({ start: new Date("2026-10-01T00:00:00Z"), end: new Date("2026-11-26T10:15:30.000Z"), label: "2026-Q4 (to date)" });
    expect(recentQuarters(NOW, 3)).toEqual(["2026-Q4", "2026-Q3", "2026-Q2"]);
  });

  it("accepts custom dates and date-times, reading a date-time without an offset as UTC", () => {
    expect(resolve({ preset: "custom", start: "2026-06-01", end: "2026-06-30T12:00" })).toEqual({
      start: new Date("2026-06-01T00:00:00Z"),
      end: new Date("2026-06-30T12:00:00Z"),
      label: "Custom",
    });
    expect(resolve({ preset: "custom", start: "2026-06-01T02:00:00+02:00", end: "2026-06-02T00:00:00Z" }).start).toEqual(new Date("2026-06-01T00:00:00Z"));
  });

  it("refuses periods in the future, reversed, too short, longer than the retention or before it, with a clear 422", () => {
    expect(refusal({ preset: "custom", start: "2026-11-20", end: "2026-12-20" }).message).toMatch(/ends in the future/);
    expect(refusal({ preset: "custom", start: "2026-12-01", end: "2026-11-01" }).message).toMatch(/reversed/);
    expect(refusal({ preset: "custom", start: "2026-11-01T00:00:00Z", end: "2026-11-01T00:00:30Z" }).message).toMatch(/shorter than a minute/);
    expect(refusal({ preset: "custom", start: "2025-06-01", end: "2026-11-01" }).message).toMatch(/longer than the audit retention of 365 days/);
    expect(refusal({ preset: "custom", start: "2025-06-01", end: "2025-07-01" }).message).toMatch(/before the audit retention/);
    expect(refusal({ preset: "quarter", quarter: "2027-Q1" }).message).toMatch(/has not started yet/);
    expect(refusal({ preset: "custom", start: "2026-12-01", end: "2026-11-01" }).issues).toEqual([{ path: "end", message: "The period is reversed: its end must come after its start." }]);
  });

  it("refuses malformed input at the schema", () => {
    expect(ZPeriodInput.safeParse({ preset: "last_year" }).success).toBe(false);
    expect(ZPeriodInput.safeParse({ preset: "quarter" }).error?.issues[0]?.message).toBe("Choose the quarter, e.g. 2026-Q3.");
    expect(ZPeriodInput.safeParse({ preset: "custom", start: "yesterday", end: "2026-01-01" }).error?.issues[0]?.message).toMatch(/ISO 8601/);
    expect(ZPeriodInput.safeParse({ preset: "custom", start: "2026-02-30", end: "2026-03-01" }).success).toBe(false);
  });

  it("lays out the trend: the previous periods of the same length, oldest first", () => {
    const p = { start: new Date("2026-11-01T00:00:00Z"), end: new Date("2026-11-08T00:00:00Z") };
    const t = trendPeriods(p, 2);
    expect(t.map((x) => [x.start.toISOString().slice(0, 10), x.end.toISOString().slice(0, 10)])).toEqual([
      ["2026-10-18", "2026-10-25"],
      ["2026-10-25", "2026-11-01"],
      ["2026-11-01", "2026-11-08"],
    ]);
  });
});

describe("statuses", () => {
  const m = (over: Partial<TInterpretation>): TInterpretation => ({ population: 10, violations: 0, value: 1, details: {}, ...over });

  it("compares ratios, counts and durations with the right direction, with a partial band", () => {
    expect(evaluateControl("ratio", { target: 1, partial: 0.95 }, m({ value: 1 })).status).toBe("pass");
    expect(evaluateControl("ratio", { target: 1, partial: 0.95 }, m({ value: 0.96 })).status).toBe("partial");
    expect(evaluateControl("ratio", { target: 1, partial: 0.95 }, m({ value: 0.5 })).status).toBe("fail");
    expect(evaluateControl("count", { target: 0, partial: null }, m({ value: 0 })).status).toBe("pass");
    expect(evaluateControl("count", { target: 0, partial: null }, m({ value: 1 })).status).toBe("fail");
    expect(evaluateControl("duration_ms", { target: 60_000, partial: null }, m({ value: 60_001 })).status).toBe("fail");
  });

  it("never turns an empty population into a pass", () => {
    expect(evaluateControl("count", { target: 0, partial: null }, m({ population: 0, value: null, vacuous: "no handle was live" }))).toEqual({ status: "not_measurable", reason: "vacuous: no handle was live" });
    expect(evaluateControl("ratio", { target: 1, partial: 0 }, m({ notMeasurable: "no verification yet" })).status).toBe("not_measurable");
  });

  it("rolls subcategories up: any fail fails, any partial is partial, unmeasured controls are left out", () => {
    expect(rollUpStatus(["pass", "fail", "partial"])).toBe("fail");
    expect(rollUpStatus(["pass", "partial", "not_measurable"])).toBe("partial");
    expect(rollUpStatus(["pass", "not_measurable"])).toBe("pass");
    expect(rollUpStatus(["not_measurable"])).toBe("not_measurable");
  });
});

describe("thresholds from the policy", () => {
  it("takes a number or {target, partial}, and falls back to the documented default otherwise", () => {
    const h07 = CONTROLS_BY_ID.get("H-07")!;
    expect(thresholdFor(h07, {})).toEqual({ target: 60_000, partial: null, source: "default" });
    expect(thresholdFor(h07, { "H-07": 30_000 })).toEqual({ target: 30_000, partial: null, source: "policy" });
    expect(thresholdFor(h07, { "H-07": { target: 30_000, partial: 45_000 } })).toEqual({ target: 30_000, partial: 45_000, source: "policy" });
    expect(thresholdFor(h07, { "H-07": "fast" })).toMatchObject({ target: 60_000, source: "default", note: expect.stringMatching(/not a number/) });
    expect(thresholdFor(CONTROLS_BY_ID.get("H-19")!, {})).toBeNull();
    expect(retentionDaysOf({})).toBe(365);
    expect(retentionDaysOf({ "H-13": 730 })).toBe(730);
  });
});
