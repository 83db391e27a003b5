// What a control is, as data. Each file in this folder defines one control once: its id and
// title, the exact metric (the SQL below is the definition, shown verbatim in every report), the
// CSF 2.0 subcategories, SP 800-53 controls and OWASP Agentic ids it supports, and its default
// threshold (a policy version may override it, see ../thresholds.ts). Pure: no database here.

export type TControlStatus = "pass" | "fail" | "partial" | "not_measurable";

/** How the measured value compares with the threshold. */
export type TMetricKind =
  /** a share in [0, 1], higher is better (pass when value >= target) */
  | "ratio"
  /** a number of offending items, lower is better (pass when value <= target) */
  | "count"
  /** a duration in milliseconds, lower is better (pass when value <= target) */
  | "duration_ms"
  /** a number of days, higher is better */
  | "days";

export const HIGHER_IS_BETTER: Record<TMetricKind, boolean> = { ratio: true, count: false, duration_ms: false, days: true };

export type TThreshold = {
  target: number;
  /** A value at least this good (but short of the target) is "partial"; null: no partial band. */
  partial: number | null;
};

/** The types the named parameters of a metric query are bound as. */
export type TParamType = "timestamptz" | "bigint" | "float8" | "text" | "xid8";

/** Values every metric query may use: the period and the audit checkpoint the report is pinned to. */
export type TMetricContext = {
  start: Date;
  end: Date;
  /** The event sealed at the checkpoint's chain position: events at or before it are exactly those the checkpoint covers. */
  cpTxid: string;
  cpSeq: string;
  cpPosition: string;
  cpAt: Date;
  /** The threshold in force (some queries count offenders against it). */
  target: number;
};

export type TSampleItem = { kind: "handle"; accessor: string } | { kind: "principal"; id: string; label: string };

/** What a metric query's one row means. */
export type TInterpretation = {
  population: number;
  violations: number | null;
  value: number | null;
  /** Sub-measures shown with the control (counts, medians, ...). */
  details: Record<string, number | string | boolean | null>;
  /** Set when nothing in the period could be measured: the control is "not measurable (vacuous)". */
  vacuous?: string;
  /** Set when the data needed is missing for another reason: "not measurable: <reason>". */
  notMeasurable?: string;
  /** A verdict the plain threshold comparison cannot express (e.g. a failed chain verification). */
  verdict?: { status: Exclude<TControlStatus, "not_measurable">; reason: string };
};

export type TMetricRow = Record<string, unknown>;

export type TMeasuredControl = {
  id: string;
  title: string;
  /** One paragraph: what is counted, over which population, and what passes. */
  definition: string;
  csf: string[];
  sp80053: string[];
  owasp: string[];
  kind: "measured";
  metric: TMetricKind;
  unit: string;
  defaultThreshold: TThreshold;
  /** The metric reads the shared `period_uses` CTE (see ./sql.ts): `sql` and `sampleSql` are queries over it. */
  shared?: "period_uses";
  /** The metric as SQL with named parameters (:start, :end, :cpTxid, :cpSeq, :cpPosition, :cpAt, :target and `params`). One row. */
  sql: string;
  /** Offending items (handles by accessor, or principals), at most :limit rows; run only when there are violations. */
  sampleSql?: string;
  sampleKind?: TSampleItem["kind"];
  /** Control-specific constants bound as named parameters (documented in the definition). */
  params?: Record<string, { type: TParamType; value: number | string }>;
  interpret(row: TMetricRow, ctx: TMetricContext): TInterpretation;
};

export type TUnmeasurableControl = {
  id: string;
  title: string;
  definition: string;
  csf: string[];
  sp80053: string[];
  owasp: string[];
  kind: "not_measurable";
  /** Why Tether's data cannot support this metric (shown as "not measurable: <reason>"). */
  reason: string;
};

export type TControl = TMeasuredControl | TUnmeasurableControl;

/** Reads a numeric column (pg returns float8 as number, bigint as string). */
export function num(row: TMetricRow, column: string): number {
  const v = row[column];
  if (v === null || v === undefined) return 0;
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isFinite(n)) throw new Error(`metric column ${column} is not a number: ${String(v)}`);
  return n;
}

/** A numeric column that may be NULL (an aggregate over no rows). */
export function numOrNull(row: TMetricRow, column: string): number | null {
  const v = row[column];
  return v === null || v === undefined ? null : num(row, column);
}

/** A share rounded to 6 decimals, so stored and exported values are stable. */
export function ratio(good: number, population: number): number {
  return Math.round((good / population) * 1e6) / 1e6;
}
