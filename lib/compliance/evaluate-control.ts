// From a measurement to a status. Pure: the unit tests drive it with hand-made interpretations.
import { HIGHER_IS_BETTER, type TControlStatus, type TInterpretation, type TMetricKind, type TThreshold } from "./controls/types";

export type TEvaluation = { status: TControlStatus; reason: string | null };

export function evaluateControl(metric: TMetricKind, threshold: TThreshold, m: TInterpretation): TEvaluation {
  if (m.notMeasurable) return { status: "not_measurable", reason: m.notMeasurable };
  if (m.vacuous) return { status: "not_measurable", reason: `vacuous: ${m.vacuous}` };
  if (m.verdict) return { status: m.verdict.status, reason: m.verdict.reason };
  if (m.value === null) return { status: "not_measurable", reason: "no value could be computed" };
  const better = HIGHER_IS_BETTER[metric];
  const meets = (bound: number) => (better ? m.value! >= bound : m.value! <= bound);
  if (meets(threshold.target)) return { status: "pass", reason: null };
  if (threshold.partial !== null && meets(threshold.partial)) return { status: "partial", reason: "short of the target, within the partial band" };
  return { status: "fail", reason: null };
}

/** A CSF subcategory's status from its controls': any fail fails, then any partial is partial; controls
 *  that could not be measured are left out, and a subcategory with none measured is not measurable. */
export function rollUpStatus(statuses: TControlStatus[]): TControlStatus {
  const measured = statuses.filter((s) => s !== "not_measurable");
  if (measured.length === 0) return "not_measurable";
  if (measured.includes("fail")) return "fail";
  if (measured.includes("partial")) return "partial";
  return "pass";
}
