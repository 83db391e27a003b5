"use client";

import { clsx } from "clsx";
import { useState, useTransition } from "react";
import { changeComplianceThresholdsAction } from "@/app/(console)/admin/policy/actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Badge } from "@/components/ui/table";
import type { TActionResult } from "@/lib/http/action-result";
import { formatThreshold, type TComplianceThresholdsChangeResult } from "@/lib/policy/schemas";

/** One measured control as the page passes it (see lib/policy/get-compliance-thresholds.ts). */
export type TThresholdRow = {
  id: string;
  title: string;
  unit: string;
  metric: "ratio" | "count" | "duration_ms" | "days";
  higherIsBetter: boolean;
  defaultThreshold: { target: number; partial: number | null };
  current: { target: number; partial: number | null; source: "policy" | "default"; note?: string };
};

type TValues = Record<string, { target: string; partial: string }>;

const METRIC_HINTS: Record<TThresholdRow["metric"], string> = {
  ratio: "share, 0–1",
  count: "count",
  duration_ms: "milliseconds",
  days: "days",
};

function valuesFrom(rows: TThresholdRow[]): TValues {
  return Object.fromEntries(rows.map((r) => [r.id, { target: String(r.current.target), partial: r.current.partial === null ? "" : String(r.current.partial) }]));
}

/** A typed number; text that is not one is sent as typed so the server names the field. */
function numberOrText(text: string): number | string {
  const n = Number(text);
  return text.trim() !== "" && Number.isFinite(n) ? n : text;
}

export function ThresholdsForm({ version, rows }: { version: number; rows: TThresholdRow[] }) {
  const [values, setValues] = useState(() => valuesFrom(rows));
  const [reason, setReason] = useState("");
  // A saved change re-renders the page with the new version: start again from what is in force.
  const [basis, setBasis] = useState(version);
  if (basis !== version) {
    setBasis(version);
    setValues(valuesFrom(rows));
    setReason("");
  }
  const [result, setResult] = useState<TActionResult<TComplianceThresholdsChangeResult> | null>(null);
  const [saving, startSave] = useTransition();

  const initial = valuesFrom(rows);
  // Only the rows the admin edited are sent; the others carry over unchanged.
  const edited = rows.filter((r) => values[r.id]!.target !== initial[r.id]!.target || values[r.id]!.partial !== initial[r.id]!.partial);

  function update(id: string, patch: Partial<TValues[string]>) {
    setValues((v) => ({ ...v, [id]: { ...v[id]!, ...patch } }));
    setResult(null);
  }

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const thresholds = Object.fromEntries(
      edited.map((r) => {
        const v = values[r.id]!;
        return [r.id, { target: numberOrText(v.target), partial: v.partial.trim() === "" ? null : numberOrText(v.partial) }];
      }),
    );
    startSave(async () => {
      const answer = await changeComplianceThresholdsAction({ thresholds, reason });
      startSave(() => setResult(answer));
    });
  }

  const errors = result && !result.ok ? result.fieldErrors : {};
  const errorOf = (id: string, field: "target" | "partial") => errors[`thresholds.${id}.${field}`] ?? (field === "target" ? errors[`thresholds.${id}`] : undefined);

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4 rounded-card border border-border bg-surface p-4 sm:p-5" aria-labelledby="thresholds-title" data-testid="thresholds-form">
      <div>
        <h2 id="thresholds-title" className="font-semibold">
          Compliance thresholds
        </h2>
        <p className="mt-1 text-sm text-fg-muted">
          What each measured control of a compliance report must reach to pass, and the partial band short of it (empty: none). A report grades its period with the
          policy version in force at the period&apos;s end. Saving creates version {version + 1} with the same handle settings; no handle is revoked or shortened.
        </p>
      </div>
      {result && !result.ok ? <Alert tone="danger">{result.code === "INVALID_INPUT" ? (errors.thresholds ?? "Fix the fields marked below; nothing was saved.") : result.error}</Alert> : null}
      {result?.ok ? (
        <Alert tone="success">
          Saved as version {result.data.version}: {Object.keys(result.data.changes).join(", ")} changed.
        </Alert>
      ) : null}

      <div className="overflow-x-auto">
        <table className="w-full text-sm">
          <caption className="sr-only">Thresholds of the measured controls</caption>
          <thead>
            <tr className="border-b border-border text-left text-xs uppercase tracking-wide text-fg-muted">
              <th className="px-2 py-2 font-medium">Control</th>
              <th className="px-2 py-2 font-medium">Unit</th>
              <th className="px-2 py-2 font-medium">Better</th>
              <th className="px-2 py-2 font-medium">Default</th>
              <th className="px-2 py-2 font-medium">In force</th>
              <th className="px-2 py-2 font-medium">Target</th>
              <th className="px-2 py-2 font-medium">Partial bound</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const targetError = errorOf(r.id, "target");
              const partialError = errorOf(r.id, "partial");
              return (
                <tr key={r.id} className="border-b border-border align-top last:border-0" data-testid={`threshold-${r.id}`}>
                  <td className="px-2 py-2">
                    <span className="font-mono text-xs">{r.id}</span> <span className="font-medium">{r.title}</span>
                  </td>
                  <td className="px-2 py-2 text-fg-muted">
                    {r.unit} <span className="text-xs">({METRIC_HINTS[r.metric]})</span>
                  </td>
                  <td className="whitespace-nowrap px-2 py-2 text-fg-muted">{r.higherIsBetter ? "higher" : "lower"}</td>
                  <td className="whitespace-nowrap px-2 py-2 font-mono text-xs">{formatThreshold(r.defaultThreshold)}</td>
                  <td className="whitespace-nowrap px-2 py-2" data-testid={`threshold-${r.id}-current`}>
                    <span className="font-mono text-xs">{formatThreshold(r.current)}</span>{" "}
                    <Badge tone={r.current.source === "policy" ? "success" : "neutral"}>{r.current.source === "policy" ? "policy" : "default"}</Badge>
                    {r.current.note ? <p className="mt-1 max-w-xs whitespace-normal text-xs text-warning">{r.current.note}</p> : null}
                  </td>
                  <ThresholdInput id={r.id} field="target" label="target" value={values[r.id]!.target} error={targetError} onChange={(target) => update(r.id, { target })} />
                  <ThresholdInput id={r.id} field="partial" label="partial bound" placeholder="none" value={values[r.id]!.partial} error={partialError} onChange={(partial) => update(r.id, { partial })} />
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      <div className="space-y-1.5">
        <label htmlFor="thresholds-reason" className="block text-sm font-medium">
          Why the thresholds change <span className="font-normal text-fg-muted">(required, recorded with the version and in the audit trail)</span>
        </label>
        <textarea
          id="thresholds-reason"
          rows={2}
          maxLength={500}
          value={reason}
          onChange={(e) => {
            setReason(e.target.value);
            setResult(null);
          }}
          aria-invalid={errors.reason ? true : undefined}
          aria-describedby={errors.reason ? "thresholds-reason-error" : undefined}
          className={clsx(CONTROL, "w-full")}
        />
        {errors.reason ? (
          <p id="thresholds-reason-error" className="text-xs text-danger">
            {errors.reason}
          </p>
        ) : null}
      </div>

      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" disabled={saving || edited.length === 0}>
          {saving ? "Saving…" : `Save thresholds as version ${version + 1}`}
        </Button>
        {edited.length === 0 ? <span className="text-sm text-fg-muted">Change a threshold to save a new version.</span> : <span className="text-sm text-fg-muted">Changing {edited.map((r) => r.id).join(", ")}.</span>}
      </div>
    </form>
  );
}

/** One editable bound of a control, with its error under it. */
function ThresholdInput(props: {
  id: string;
  field: "target" | "partial";
  label: string;
  placeholder?: string;
  value: string;
  error: string | undefined;
  onChange(value: string): void;
}) {
  const inputId = `threshold-${props.id}-${props.field}`;
  return (
    <td className="px-2 py-2">
      <label htmlFor={inputId} className="sr-only">
        {props.id} {props.label}
      </label>
      <input
        id={inputId}
        inputMode="decimal"
        placeholder={props.placeholder}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${inputId}-error` : undefined}
        className={clsx(CONTROL, "w-28")}
      />
      {props.error ? (
        <p id={`${inputId}-error`} className="mt-1 max-w-[14rem] text-xs text-danger">
          {props.error}
        </p>
      ) : null}
    </td>
  );
}

const CONTROL = "block rounded-control border border-border bg-surface px-3 py-2 text-sm text-fg placeholder:text-fg-muted aria-[invalid=true]:border-danger";
