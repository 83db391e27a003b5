import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { HIGHER_IS_BETTER, type TMetricKind, type TThreshold } from "@/lib/compliance/controls/types";
import { thresholdFor, type TThresholdSource } from "@/lib/compliance/thresholds";
import { getPrisma } from "@/lib/db/client";
import { MEASURED_CONTROLS } from "./measured-controls";

export type TControlThreshold = {
  id: string;
  title: string;
  unit: string;
  metric: TMetricKind;
  higherIsBetter: boolean;
  defaultThreshold: TThreshold;
  current: TThreshold & { source: TThresholdSource; note?: string };
};

export type TComplianceThresholds = {
  version: number;
  controls: TControlThreshold[];
  /** Per listed version, the controls whose threshold in force differs from the version before. */
  changesByVersion: Record<number, Array<{ id: string; from: TThreshold; to: TThreshold }>>;
};

/** The thresholds of every measured control under the policy in force, for the Policy page. */
export async function getComplianceThresholds(input: { actor: TActor; limit?: number }): Promise<TComplianceThresholds | null> {
  assertCan(input.actor, "policy.manage");
  const limit = Math.min(Math.max(input.limit ?? 100, 1), 500);
  // One more than listed, so the oldest listed version is compared with its predecessor.
  const rows = await getPrisma().handlePolicy.findMany({ orderBy: { version: "desc" }, take: limit + 1, select: { version: true, thresholds: true } });
  const current = rows[0];
  if (!current) return null;

  const changesByVersion: TComplianceThresholds["changesByVersion"] = {};
  rows.slice(0, limit).forEach((row, i) => {
    const previous = rows[i + 1];
    if (!previous) return;
    const changed = MEASURED_CONTROLS.flatMap((control) => {
      const from = thresholdFor(control, previous.thresholds)!;
      const to = thresholdFor(control, row.thresholds)!;
      return from.target === to.target && from.partial === to.partial ? [] : [{ id: control.id, from: { target: from.target, partial: from.partial }, to: { target: to.target, partial: to.partial } }];
    });
    if (changed.length) changesByVersion[row.version] = changed;
  });

  return {
    version: current.version,
    controls: MEASURED_CONTROLS.map((control) => ({
      id: control.id,
      title: control.title,
      unit: control.unit,
      metric: control.metric,
      higherIsBetter: HIGHER_IS_BETTER[control.metric],
      defaultThreshold: { ...control.defaultThreshold },
      current: thresholdFor(control, current.thresholds)!,
    })),
    changesByVersion,
  };
}
