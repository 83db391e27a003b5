"use client";

import { useActionState, useState } from "react";
import { requestReportAction } from "@/app/(console)/reports/actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { SelectField, TextField } from "@/components/ui/field";
import { PERIOD_PRESETS, PRESET_LABELS, type TPeriodPreset } from "@/lib/compliance/period";

/** Choose a period and queue a report; the page of the new report opens when it is queued. */
export function GenerateReportForm({ quarters }: { quarters: string[] }) {
  const [state, action, pending] = useActionState(requestReportAction, null);
  const values = state && !state.ok ? (state.values ?? {}) : {};
  const [preset, setPreset] = useState<TPeriodPreset>((values.preset as TPeriodPreset | undefined) ?? "last_30_days");
  const errors = state && !state.ok ? state.fieldErrors : {};
  return (
    <form action={action} noValidate className="space-y-4 rounded-card border border-border bg-surface p-4" aria-labelledby="generate-report-title">
      <h2 id="generate-report-title" className="font-semibold">
        Generate a report
      </h2>
      {state && !state.ok ? <Alert tone="danger">{state.error}</Alert> : null}
      <fieldset className="flex flex-wrap gap-x-4 gap-y-2">
        <legend className="mb-1.5 text-sm font-medium">Period</legend>
        {PERIOD_PRESETS.map((p) => (
          <label key={p} className="inline-flex items-center gap-1.5 text-sm">
            <input type="radio" name="preset" value={p} checked={preset === p} onChange={() => setPreset(p)} />
            {PRESET_LABELS[p]}
          </label>
        ))}
      </fieldset>
      {preset === "quarter" ? (
        <SelectField id="report-quarter" name="quarter" label="Quarter" defaultValue={values.quarter ?? quarters[1] ?? quarters[0]} error={errors.quarter} className="max-w-xs">
          {quarters.map((q, i) => (
            <option key={q} value={q}>
              {q}
              {i === 0 ? " (to date)" : ""}
            </option>
          ))}
        </SelectField>
      ) : null}
      {preset === "custom" ? (
        <div className="grid max-w-xl gap-4 sm:grid-cols-2">
          <TextField id="report-start" name="start" type="datetime-local" label="Start (UTC)" defaultValue={values.start} error={errors.start} />
          <TextField id="report-end" name="end" type="datetime-local" label="End (UTC, excluded)" defaultValue={values.end} error={errors.end} />
        </div>
      ) : null}
      {errors.preset ? <p className="text-xs text-danger">{errors.preset}</p> : null}
      <Button type="submit" disabled={pending}>
        {pending ? "Queuing…" : "Generate report"}
      </Button>
    </form>
  );
}
