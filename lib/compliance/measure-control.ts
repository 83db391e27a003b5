import "server-only";
import type pg from "pg";
import { bindMetricQuery, withSharedCte, PERIOD_USES } from "./controls/sql";
import type { TControl, TControlStatus, TMeasuredControl, TMetricContext, TMetricRow, TSampleItem } from "./controls/types";
import { evaluateControl } from "./evaluate-control";
import type { TEffectiveThreshold } from "./thresholds";

export const SAMPLE_LIMIT = 10;

export type TTrendPoint = { start: string; end: string; value: number | null; status: TControlStatus };

export type TControlResult = {
  id: string;
  status: TControlStatus;
  /** Why it is not measurable, or what decided a status the threshold alone does not explain. */
  reason: string | null;
  value: number | null;
  population: number | null;
  violations: number | null;
  details: Record<string, number | string | boolean | null>;
  threshold: TEffectiveThreshold | null;
  sample: TSampleItem[];
  /** The exact query that produced the value, with the parameter values it ran with. */
  query: { sql: string; parameters: Record<string, string | number> } | null;
  trend: TTrendPoint[];
};

/**
 * Runs one metric query: aggregation happens in Postgres, one row comes back. Each query runs
 * in its own short read-only transaction with JIT off (compiling these one-off plans costs more
 * than running them) and a larger work_mem, so the embedded database's single connection is never held for long.
 */
async function runOne(pool: pg.Pool, text: string, values: unknown[], options: { hashJoinsOnly?: boolean } = {}): Promise<TMetricRow[]> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN READ ONLY");
    // One report query runs at a time per worker: let its hashes and sorts stay in memory.
    await client.query("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'");
    // The planner has no statistics for a materialized CTE and can pick a nested loop over two
    // large inputs; every join in the shared statement is between large sets.
    if (options.hashJoinsOnly) await client.query("SET LOCAL enable_nestloop = off; SET LOCAL enable_mergejoin = off");
    const { rows } = await client.query<TMetricRow>(text, values);
    await client.query("COMMIT");
    return rows;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

type TPeriodCtx = Omit<TMetricContext, "target">;

/** One control over one period: its value and status (no sample, no trend). */
export async function measureOnce(pool: pg.Pool, control: TControl, ctx: TPeriodCtx, threshold: TEffectiveThreshold | null) {
  if (control.kind === "not_measurable" || !threshold) {
    return { status: "not_measurable" as const, reason: control.kind === "not_measurable" ? control.reason : "no threshold", interpretation: null, query: null };
  }
  const full: TMetricContext = { ...ctx, target: threshold.target };
  const sql = withSharedCte(control.shared, control.sql);
  const bound = bindMetricQuery(sql, full, control.params);
  const [row] = await runOne(pool, bound.text, bound.values);
  if (!row) throw new Error(`${control.id}: the metric query returned no row`);
  return judge(control, row, full, threshold, { sql, parameters: bound.parameters });
}

function judge(control: TMeasuredControl, row: TMetricRow, ctx: TMetricContext, threshold: TEffectiveThreshold, query: { sql: string; parameters: Record<string, string | number> }) {
  const interpretation = control.interpret(row, ctx);
  const evaluation = evaluateControl(control.metric, threshold, interpretation);
  return { ...evaluation, interpretation, query };
}

export type TMeasurement = Awaited<ReturnType<typeof measureOnce>>;

/**
 * The controls that read the shared `period_uses` CTE, in ONE statement: the audit events of the
 * period are read once, then each control's own query runs over the materialized CTE. Each result
 * is what the control's query gives alone (its definition is the CTE followed by its query).
 */
export async function measureShared(
  pool: pg.Pool,
  controls: TMeasuredControl[],
  ctx: TPeriodCtx,
  thresholds: Map<string, TEffectiveThreshold>,
  options: { samples?: boolean } = {},
): Promise<Map<string, TMeasurement & { sample?: TSampleItem[] }>> {
  const out = new Map<string, TMeasurement & { sample?: TSampleItem[] }>();
  if (!controls.length) return out;
  for (const c of controls) if (/(?<![:\w]):target\b/.test(c.sql)) throw new Error(`${c.id}: a shared metric query cannot use :target`);
  const params = Object.assign({}, ...controls.map((c) => c.params ?? {})) as NonNullable<TMeasuredControl["params"]>;
  // With samples, each control's offenders come from the same materialized pass (used only when
  // the control has violations).
  // A sample is computed only when its metric row counts violations (a row without a violations
  // column always gets one): the sample queries cost as much as the metrics.
  const metrics = controls.map((c, i) => `(SELECT row_to_json(q) FROM (\n${c.sql}\n) q) AS c${i}`).join(",\n       ");
  const samples = controls.flatMap((c, i) =>
    options.samples && c.sampleSql
      ? [`CASE WHEN COALESCE((m.c${i}->>'violations')::float8, 1) > 0 THEN (SELECT json_agg(s) FROM (\n${c.sampleSql}\n) s) END AS s${i}`]
      : [],
  );
  const combined = `WITH period_uses AS MATERIALIZED (\n  ${PERIOD_USES}\n)\nSELECT ${["m.*", ...samples].join(",\n       ")}\n  FROM (SELECT ${metrics} OFFSET 0) m`;
  const bound = bindMetricQuery(combined, { ...ctx, target: 0, limit: SAMPLE_LIMIT }, params);
  const [row] = await runOne(pool, bound.text, bound.values, { hashJoinsOnly: true });
  if (!row) throw new Error("the shared metric query returned no row");
  controls.forEach((c, i) => {
    const threshold = thresholds.get(c.id)!;
    const sql = withSharedCte(c.shared, c.sql);
    const own = bindMetricQuery(sql, { ...ctx, target: threshold.target }, c.params);
    const m = judge(c, row[`c${i}`] as TMetricRow, { ...ctx, target: threshold.target }, threshold, { sql, parameters: own.parameters });
    const offenders = (row[`s${i}`] as TMetricRow[] | null | undefined) ?? [];
    const violating = (m.interpretation.violations ?? 0) > 0 && m.status !== "not_measurable";
    out.set(c.id, options.samples ? { ...m, sample: violating ? toSample(c, offenders) : [] } : m);
  });
  return out;
}

/** Offending items (handles by accessor, or principals), at most SAMPLE_LIMIT. */
export async function sampleOffenders(pool: pg.Pool, control: TControl, ctx: TMetricContext): Promise<TSampleItem[]> {
  if (control.kind !== "measured" || !control.sampleSql) return [];
  const bound = bindMetricQuery(withSharedCte(control.shared, control.sampleSql), { ...ctx, limit: SAMPLE_LIMIT }, control.params);
  return toSample(control, await runOne(pool, bound.text, bound.values));
}

function toSample(control: TMeasuredControl, rows: TMetricRow[]): TSampleItem[] {
  return rows.flatMap((r): TSampleItem[] => {
    if (control.sampleKind === "principal") return typeof r.id === "string" ? [{ kind: "principal", id: r.id, label: r.id }] : [];
    return typeof r.accessor === "string" ? [{ kind: "handle", accessor: r.accessor }] : [];
  });
}
