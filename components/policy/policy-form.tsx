"use client";

import { clsx } from "clsx";
import { useEffect, useRef, useState, useTransition } from "react";
import { changePolicyAction, previewPolicyAction } from "@/app/(console)/admin/policy/actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import type { TActionResult } from "@/lib/http/action-result";
import { describeChanges } from "@/lib/policy/describe-policy";
import { DURATION_UNITS, formatDuration, splitDuration, unitMs, type TDurationUnit } from "@/lib/policy/duration";
import {
  MAX_LIVE_HANDLES_CEILING,
  POLICY_OPERATIONS,
  POLL_AUDIT_LEVELS,
  POLL_AUDIT_LEVEL_LABELS,
  type TPolicyChangeResult,
  type TPolicyOperation,
  type TPolicyPreview,
  type TPollAuditLevel,
} from "@/lib/policy/schemas";

export type TPolicyFormPolicy = {
  version: number;
  maxTtlMs: number;
  defaultTtlMs: number;
  maxLiveHandlesPerPrincipal: number;
  requireSessionBinding: boolean;
  allowedOperations: string[];
  pollAuditLevel: TPollAuditLevel;
  minValidVersion: number;
};

type TValues = {
  maxTtl: string;
  maxTtlUnit: TDurationUnit;
  defaultTtl: string;
  defaultTtlUnit: TDurationUnit;
  maxLive: string;
  requireSessionBinding: boolean;
  allowedOperations: string[];
  pollAuditLevel: string;
  invalidateOlderVersions: boolean;
  reason: string;
};

const OPERATION_HINTS: Record<TPolicyOperation, string> = {
  "tasks/get": "read the task's status",
  "tasks/result": "fetch the task's result",
  "tasks/cancel": "cancel the task upstream",
  "tasks/update": "send input to the task (Tasks extension)",
  "tasks/list": "list the caller's own tasks",
};

const POLL_AUDIT_HINTS: Record<TPollAuditLevel, string> = {
  transitions: "Status changes, results, cancels, lists and every denial are audited; a plain poll only updates last-used and the use count.",
  every_poll: "Also one audit event per plain poll. Complete, but the trail grows with every agent's polling rate.",
};

function valuesFrom(policy: TPolicyFormPolicy): TValues {
  const max = splitDuration(policy.maxTtlMs);
  const def = splitDuration(policy.defaultTtlMs);
  return {
    maxTtl: String(max.value),
    maxTtlUnit: max.unit,
    defaultTtl: String(def.value),
    defaultTtlUnit: def.unit,
    maxLive: String(policy.maxLiveHandlesPerPrincipal),
    requireSessionBinding: policy.requireSessionBinding,
    allowedOperations: policy.allowedOperations,
    pollAuditLevel: policy.pollAuditLevel,
    invalidateOlderVersions: false,
    reason: "",
  };
}

/** A typed number, or null when the field is empty or not a number (the server says what is wrong). */
function numberOf(text: string, scale = 1): number | null {
  if (text.trim() === "") return null;
  const n = Number(text);
  return Number.isFinite(n) ? Math.round(n * scale) : null;
}

/** The settings as the use cases take them (milliseconds, whole numbers); the reason is separate. */
function settingsOf(v: TValues) {
  return {
    maxTtlMs: numberOf(v.maxTtl, unitMs(v.maxTtlUnit)),
    defaultTtlMs: numberOf(v.defaultTtl, unitMs(v.defaultTtlUnit)),
    maxLiveHandlesPerPrincipal: v.maxLive.trim() === "" ? null : Number(v.maxLive),
    requireSessionBinding: v.requireSessionBinding,
    allowedOperations: POLICY_OPERATIONS.filter((op) => v.allowedOperations.includes(op)),
    pollAuditLevel: v.pollAuditLevel,
    invalidateOlderVersions: v.invalidateOlderVersions,
  };
}

type TPreviewState = { key: string; result: TActionResult<TPolicyPreview> } | null;

export function PolicyForm({ policy }: { policy: TPolicyFormPolicy }) {
  const [values, setValues] = useState(() => valuesFrom(policy));
  // A saved change re-renders the page with the new version: start again from what is in force.
  const [basis, setBasis] = useState(policy.version);
  if (basis !== policy.version) {
    setBasis(policy.version);
    setValues(valuesFrom(policy));
  }

  const [result, setResult] = useState<TActionResult<TPolicyChangeResult> | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [saving, startSave] = useTransition();
  const [preview, setPreview] = useState<TPreviewState>(null);
  const [previewing, startPreview] = useTransition();
  const [refresh, setRefresh] = useState(0);
  const latest = useRef("");

  const settingsKey = JSON.stringify(settingsOf(values));
  const unchanged = settingsKey === JSON.stringify(settingsOf(valuesFrom(policy)));

  // The live preview: asked for a moment after the last edit; answers for older edits are dropped.
  useEffect(() => {
    latest.current = `${settingsKey}#${refresh}`;
    if (unchanged) return;
    const asked = latest.current;
    const timer = setTimeout(() => {
      startPreview(async () => {
        const answer = await previewPolicyAction(JSON.parse(settingsKey));
        if (latest.current === asked) startPreview(() => setPreview({ key: settingsKey, result: answer }));
      });
    }, 250);
    return () => clearTimeout(timer);
  }, [settingsKey, unchanged, refresh]);

  const current = !unchanged && preview?.key === settingsKey ? preview.result : null;
  const revocations = current?.ok ? current.data.revoked : 0;
  const clamped = current?.ok ? current.data.clamped : 0;

  function update(patch: Partial<TValues>) {
    setValues((v) => ({ ...v, ...patch }));
    setConfirming(false);
    setResult(null);
  }

  function save(confirmedRevocations: number) {
    setConfirming(false);
    startSave(async () => {
      const answer = await changePolicyAction({ ...settingsOf(values), reason: values.reason, confirmedRevocations });
      startSave(() => {
        setResult(answer);
        // More handles would be revoked than the admin saw: show them the fresh numbers.
        if (!answer.ok && answer.code === "CONFLICT") setRefresh((n) => n + 1);
      });
    });
  }

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (revocations > 0) setConfirming(true);
    else save(0);
  }

  const errors = result && !result.ok ? result.fieldErrors : {};
  const errorOf = (field: string) => errors[field] ?? Object.entries(errors).find(([path]) => path.startsWith(`${field}.`))?.[1];
  const nextVersion = policy.version + 1;

  return (
    <div className="grid items-start gap-6 lg:grid-cols-[minmax(0,1fr)_22rem]">
      <form onSubmit={onSubmit} noValidate className="space-y-6 rounded-card border border-border bg-surface p-4 sm:p-5" aria-labelledby="policy-form-title">
        <div>
          <h2 id="policy-form-title" className="font-semibold">
            Change the policy
          </h2>
          <p className="mt-1 text-sm text-fg-muted">Saving creates version {nextVersion}; version {policy.version} stays in the history unchanged.</p>
        </div>
        {result && !result.ok ? <Alert tone="danger">{result.code === "INVALID_INPUT" ? "Fix the fields marked below; nothing was saved." : result.error}</Alert> : null}
        {result?.ok ? (
          <Alert tone="success">
            Saved as version {result.data.version}. {effectsSentence(result.data.revoked, result.data.clamped)}
          </Alert>
        ) : null}

        <fieldset className="space-y-4">
          <legend className="text-sm font-semibold">Lifetimes</legend>
          <div className="grid gap-4 sm:grid-cols-2">
            <DurationField
              id="policy-max-ttl"
              label="Maximum TTL"
              value={values.maxTtl}
              unit={values.maxTtlUnit}
              onValue={(maxTtl) => update({ maxTtl })}
              onUnit={(maxTtlUnit) => update({ maxTtlUnit })}
              hint="No handle outlives this, whatever the agent or upstream asks for (1 second to 7 days). Lowering it revokes live handles already older than the new maximum and brings the others' expiry forward."
              error={errorOf("maxTtlMs")}
            />
            <DurationField
              id="policy-default-ttl"
              label="Default TTL"
              value={values.defaultTtl}
              unit={values.defaultTtlUnit}
              onValue={(defaultTtl) => update({ defaultTtl })}
              onUnit={(defaultTtlUnit) => update({ defaultTtlUnit })}
              hint="For handles whose agent asks for no TTL. At most the maximum TTL; applies to new handles."
              error={errorOf("defaultTtlMs")}
            />
          </div>
        </fieldset>

        <fieldset className="space-y-4">
          <legend className="text-sm font-semibold">Use</legend>
          <div className="max-w-xs space-y-1.5">
            <label htmlFor="policy-max-live" className="block text-sm font-medium">
              Live handles per principal
            </label>
            <input
              id="policy-max-live"
              type="number"
              inputMode="numeric"
              min={1}
              max={MAX_LIVE_HANDLES_CEILING}
              step={1}
              value={values.maxLive}
              onChange={(e) => update({ maxLive: e.target.value })}
              aria-invalid={errorOf("maxLiveHandlesPerPrincipal") ? true : undefined}
              aria-describedby="policy-max-live-help"
              className={clsx(CONTROL, "w-40")}
            />
            <FieldHelp id="policy-max-live-help" error={errorOf("maxLiveHandlesPerPrincipal")}>
              Minting beyond this is refused with a clear error. Lowering it revokes nothing: existing handles run out as usual.
            </FieldHelp>
          </div>

          <div className="space-y-1.5">
            <label className="flex items-start gap-2 text-sm font-medium">
              <input
                type="checkbox"
                checked={values.requireSessionBinding}
                onChange={(e) => update({ requireSessionBinding: e.target.checked })}
                aria-describedby="policy-session-help"
                className="mt-0.5 size-4 accent-accent"
              />
              Bind each handle to the gateway session that created it
            </label>
            <FieldHelp id="policy-session-help" error={errorOf("requireSessionBinding")} className="pl-6">
              Turning this on changes no stored handle: the gateway checks the session on every call, so from the next call on a handle used from another session
              (even by the same agent) is refused like an unknown task.
            </FieldHelp>
          </div>

          <div role="group" aria-labelledby="policy-ops-label" aria-describedby="policy-ops-help" className="space-y-2">
            <p id="policy-ops-label" className="text-sm font-medium">
              Allowed operations
            </p>
            <ul className="grid gap-1.5 sm:grid-cols-2">
              {POLICY_OPERATIONS.map((op) => (
                <li key={op}>
                  <label className="flex items-start gap-2 text-sm">
                    <input
                      type="checkbox"
                      name="allowedOperations"
                      value={op}
                      checked={values.allowedOperations.includes(op)}
                      onChange={(e) =>
                        update({ allowedOperations: e.target.checked ? [...values.allowedOperations, op] : values.allowedOperations.filter((o) => o !== op) })
                      }
                      className="mt-0.5 size-4 accent-accent"
                    />
                    <span>
                      <code className="font-mono text-[13px]">{op}</code> <span className="text-fg-muted">— {OPERATION_HINTS[op]}</span>
                    </span>
                  </label>
                </li>
              ))}
            </ul>
            <FieldHelp id="policy-ops-help" error={errorOf("allowedOperations")}>
              Checked on every call under the policy in force; removing one changes no stored handle but refuses that call from then on.
            </FieldHelp>
          </div>

          <div role="radiogroup" aria-labelledby="policy-poll-label" className="space-y-2">
            <p id="policy-poll-label" className="text-sm font-medium">
              Poll auditing
            </p>
            {POLL_AUDIT_LEVELS.map((level) => (
              <label key={level} className="flex items-start gap-2 text-sm">
                <input
                  type="radio"
                  name="pollAuditLevel"
                  value={level}
                  checked={values.pollAuditLevel === level}
                  onChange={() => update({ pollAuditLevel: level })}
                  className="mt-0.5 size-4 accent-accent"
                />
                <span>
                  <span className="font-medium">{POLL_AUDIT_LEVEL_LABELS[level]}</span>
                  <span className="block text-xs text-fg-muted">{POLL_AUDIT_HINTS[level]}</span>
                </span>
              </label>
            ))}
            {errorOf("pollAuditLevel") ? <p className="text-xs text-danger">{errorOf("pollAuditLevel")}</p> : null}
          </div>
        </fieldset>

        <fieldset className="space-y-1.5 rounded-control border border-danger/40 p-3">
          <legend className="px-1 text-sm font-semibold text-danger">Older handles</legend>
          <label className="flex items-start gap-2 text-sm font-medium">
            <input
              type="checkbox"
              checked={values.invalidateOlderVersions}
              onChange={(e) => update({ invalidateOlderVersions: e.target.checked })}
              aria-describedby="policy-invalidate-help"
              className="mt-0.5 size-4 accent-danger"
            />
            Stop honouring every handle issued before version {nextVersion}
          </label>
          <FieldHelp id="policy-invalidate-help" error={errorOf("invalidateOlderVersions")} className="pl-6">
            Revokes every live handle when you save, and the gateway refuses any handle issued under an older version from then on. Agents must start new tasks. Use it
            after a suspected leak.
          </FieldHelp>
        </fieldset>

        <div className="space-y-1.5">
          <label htmlFor="policy-reason" className="block text-sm font-medium">
            Reason <span className="font-normal text-fg-muted">(required, recorded with the version and in the audit trail)</span>
          </label>
          <textarea
            id="policy-reason"
            rows={2}
            maxLength={500}
            value={values.reason}
            onChange={(e) => update({ reason: e.target.value })}
            aria-invalid={errorOf("reason") ? true : undefined}
            aria-describedby={errorOf("reason") ? "policy-reason-error" : undefined}
            className={clsx(CONTROL, "w-full")}
          />
          {errorOf("reason") ? (
            <p id="policy-reason-error" className="text-xs text-danger">
              {errorOf("reason")}
            </p>
          ) : null}
        </div>

        {confirming ? (
          <div role="alertdialog" aria-labelledby="policy-confirm-title" aria-describedby="policy-confirm-text" className="space-y-3 rounded-control border border-danger/40 bg-danger-surface p-3">
            <p id="policy-confirm-title" className="text-sm font-semibold text-danger">
              Revoke {plural(revocations, "live handle")}?
            </p>
            <p id="policy-confirm-text" className="text-sm">
              {revocations === 1
                ? "The agent holding it is refused from its next call; the upstream task may run on."
                : "The agents holding them are refused from their next call; the upstream tasks may run on."}{" "}
              {clamped ? `The expiry of ${plural(clamped, "other live handle")} is brought forward as well. ` : ""}Revocation cannot be undone.
            </p>
            <div className="flex flex-wrap gap-2">
              <Button type="button" variant="danger" onClick={() => save(revocations)} disabled={saving}>
                Revoke {plural(revocations, "handle")} and save
              </Button>
              {/* Focus lands on the safe choice, so a second Enter does not revoke. */}
              <Button type="button" variant="secondary" onClick={() => setConfirming(false)} autoFocus>
                Back
              </Button>
            </div>
          </div>
        ) : (
          <div className="flex flex-wrap items-center gap-3">
            <Button type="submit" disabled={saving || unchanged}>
              {saving ? "Saving…" : `Save as version ${nextVersion}`}
            </Button>
            {unchanged ? <span className="text-sm text-fg-muted">Change a setting to save a new version.</span> : null}
          </div>
        )}
      </form>

      <PreviewPanel policy={policy} unchanged={unchanged} previewing={previewing} result={current} values={values} />
    </div>
  );
}

// Width is set where a control is used (a duration's number and unit share one row).
const CONTROL = "block rounded-control border border-border bg-surface px-3 py-2 text-sm text-fg placeholder:text-fg-muted aria-[invalid=true]:border-danger";

function FieldHelp({ id, error, className, children }: { id: string; error: string | undefined; className?: string; children: React.ReactNode }) {
  return (
    <p id={id} className={clsx("text-xs", error ? "text-danger" : "text-fg-muted", className)}>
      {error ?? children}
    </p>
  );
}

function DurationField(props: {
  id: string;
  label: string;
  value: string;
  unit: TDurationUnit;
  onValue: (value: string) => void;
  onUnit: (unit: TDurationUnit) => void;
  hint: string;
  error: string | undefined;
}) {
  return (
    <div className="space-y-1.5">
      <label htmlFor={props.id} className="block text-sm font-medium">
        {props.label}
      </label>
      <div className="flex gap-2">
        <input
          id={props.id}
          type="number"
          inputMode="decimal"
          min={0}
          step="any"
          value={props.value}
          onChange={(e) => props.onValue(e.target.value)}
          aria-invalid={props.error ? true : undefined}
          aria-describedby={`${props.id}-help`}
          className={clsx(CONTROL, "w-28 min-w-0")}
        />
        <label htmlFor={`${props.id}-unit`} className="sr-only">
          {props.label} unit
        </label>
        <select id={`${props.id}-unit`} value={props.unit} onChange={(e) => props.onUnit(e.target.value as TDurationUnit)} className={clsx(CONTROL, "w-32 shrink-0")}>
          {DURATION_UNITS.map((u) => (
            <option key={u.unit} value={u.unit}>
              {u.unit}
            </option>
          ))}
        </select>
      </div>
      <FieldHelp id={`${props.id}-help`} error={props.error}>
        {props.hint}
      </FieldHelp>
    </div>
  );
}

function plural(n: number, noun: string): string {
  return `${n.toLocaleString("en")} ${noun}${n === 1 ? "" : "s"}`;
}

function effectsSentence(revoked: number, clamped: number): string {
  if (!revoked && !clamped) return "No live handle was revoked or shortened.";
  const parts = [revoked ? `revoked ${plural(revoked, "live handle")}` : null, clamped ? `shortened the expiry of ${plural(clamped, "live handle")}` : null].filter(Boolean);
  const sentence = parts.join(" and ");
  return `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`;
}

function PreviewPanel(props: { policy: TPolicyFormPolicy; unchanged: boolean; previewing: boolean; result: TActionResult<TPolicyPreview> | null; values: TValues }) {
  const { result } = props;
  let body: React.ReactNode;
  if (props.unchanged) {
    body = <p className="text-sm text-fg-muted">Change a setting to see what saving would do to the live handles before you save.</p>;
  } else if (!result) {
    body = <p className="text-sm text-fg-muted">Calculating…</p>;
  } else if (!result.ok) {
    const first = Object.values(result.fieldErrors)[0];
    body = <Alert tone="warning">{first ? `Can't preview yet: ${first}` : result.error}</Alert>;
  } else {
    const preview = result.data;
    const changes = describeChanges(preview.changes);
    const added = props.values.requireSessionBinding && !props.policy.requireSessionBinding;
    const newMax = preview.changes.maxTtlMs?.to;
    body = changes.length ? (
      <div className="space-y-3">
        <p className="text-sm">
          Saves <span className="font-medium">version {preview.nextVersion}</span> with {plural(changes.length, "change")}:
        </p>
        <ul className="space-y-1 text-sm" aria-label="Changes">
          {changes.map((c) => (
            <li key={c.key}>
              <span className="text-fg-muted">{c.label}:</span> <span className="line-through decoration-fg-muted/60">{c.from}</span> → <span className="font-medium">{c.to}</span>
            </li>
          ))}
        </ul>
        <ul className="space-y-2" aria-label="Effect on live handles">
          {preview.revoked ? (
            <li className="rounded-control border border-danger/40 bg-danger-surface px-3 py-2 text-sm text-danger" data-testid="preview-revoked">
              <span className="font-semibold">Revokes {plural(preview.revoked, "live handle")}</span> now
              {preview.changes.minValidVersion ? " (every handle issued under an older version)" : typeof newMax === "number" ? ` (already older than ${formatDuration(newMax)})` : ""}.
            </li>
          ) : null}
          {preview.clamped ? (
            <li className="rounded-control border border-warning/40 bg-warning-surface px-3 py-2 text-sm text-warning" data-testid="preview-clamped">
              <span className="font-semibold">Shortens the expiry of {plural(preview.clamped, "live handle")}</span>
              {typeof newMax === "number" ? ` to ${formatDuration(newMax)} after creation` : ""}.
            </li>
          ) : null}
          {!preview.revoked && !preview.clamped ? (
            <li className="rounded-control border border-success/40 bg-success-surface px-3 py-2 text-sm text-success" data-testid="preview-none">
              No live handle is revoked or shortened.
            </li>
          ) : null}
          {added ? (
            <li className="rounded-control border border-border bg-surface-muted px-3 py-2 text-sm">
              Session binding is checked per call: stored handles are unchanged, but one used from another session is refused from the next call.
            </li>
          ) : null}
        </ul>
        <p className="text-xs text-fg-muted">Counted now with the same rules the save applies; handles issued or expiring meanwhile can change the numbers.</p>
      </div>
    ) : (
      <p className="text-sm text-fg-muted">No change from version {preview.baseVersion}.</p>
    );
  }
  return (
    <section aria-labelledby="policy-preview-title" className="space-y-3 rounded-card border border-border bg-surface p-4 lg:sticky lg:top-4" data-testid="policy-preview">
      <h2 id="policy-preview-title" className="flex items-center justify-between font-semibold">
        What this will do
        {props.previewing ? <span className="text-xs font-normal text-fg-muted">updating…</span> : null}
      </h2>
      <div aria-live="polite">{body}</div>
    </section>
  );
}
