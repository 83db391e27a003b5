"use client";

import { useState, useTransition } from "react";
import { removeServerAction, setServerEnabledAction, setServerPollingAction, updateServerAction } from "@/app/(console)/admin/servers/actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import type { TActionResult } from "@/lib/http/action-result";
import { ServerForm, type TEditableServer } from "./server-form";

type TPanel = "none" | "edit" | "disable" | "polling" | "remove";

const INPUT = "block w-full rounded-control border border-border bg-surface px-2.5 py-1.5 text-sm aria-[invalid=true]:border-danger";

/**
 * The admin's controls for one server: edit, re-check, enable or disable (a reason to disable),
 * pause or resume status polling (a reason), and remove (a reason, and a decision about its live
 * handles when it has any).
 */
export function ServerManagePanel({
  server,
  enabled,
  pollingPaused,
  liveHandles,
  audienceBase,
}: {
  server: TEditableServer;
  enabled: boolean;
  pollingPaused: boolean;
  liveHandles: number;
  audienceBase: string;
}) {
  const [panel, setPanel] = useState<TPanel>("none");
  const [reason, setReason] = useState("");
  const [handling, setHandling] = useState<"" | "revoke_all" | "keep_orphans">("");
  const [result, setResult] = useState<TActionResult<unknown> | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [pending, start] = useTransition();
  const errors = result && !result.ok ? result.fieldErrors : {};
  const ids = { reason: `server-reason-${server.id}`, handling: `server-handling-${server.id}` };

  function open(next: TPanel) {
    setPanel((p) => (p === next ? "none" : next));
    setResult(null);
    setMessage(null);
  }

  function run(action: () => Promise<TActionResult<unknown>>, done: string) {
    setMessage(null);
    start(async () => {
      const answer = await action();
      start(() => {
        setResult(answer);
        if (answer.ok) {
          setPanel("none");
          setReason("");
          setMessage(done);
        }
      });
    });
  }

  const probeFailure = panel === "none" && errors.probe ? errors.probe : null;
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap gap-2">
        <Button type="button" variant="secondary" className="h-8 px-2.5" aria-expanded={panel === "edit"} onClick={() => open("edit")} aria-label={`Edit ${server.name}`}>
          Edit
        </Button>
        <Button
          type="button"
          variant="secondary"
          className="h-8 px-2.5"
          disabled={pending}
          onClick={() => {
            setPanel("none");
            run(() => updateServerAction({ serverId: server.id, recheck: true }), "Checked: the recorded capabilities and tools are current.");
          }}
          aria-label={`Re-check ${server.name}`}
        >
          Re-check
        </Button>
        {enabled ? (
          <Button type="button" variant="secondary" className="h-8 px-2.5" aria-expanded={panel === "disable"} onClick={() => open("disable")} aria-label={`Disable ${server.name}`}>
            Disable
          </Button>
        ) : (
          <Button
            type="button"
            variant="secondary"
            className="h-8 px-2.5"
            disabled={pending}
            onClick={() => {
              setPanel("none");
              run(() => setServerEnabledAction({ serverId: server.id, enabled: true }), "Enabled.");
            }}
            aria-label={`Enable ${server.name}`}
          >
            {pending ? "Checking…" : "Enable"}
          </Button>
        )}
        <Button type="button" variant="secondary" className="h-8 px-2.5" aria-expanded={panel === "polling"} onClick={() => open("polling")} aria-label={`${pollingPaused ? "Resume" : "Pause"} polling of ${server.name}`}>
          {pollingPaused ? "Resume polling" : "Pause polling"}
        </Button>
        <Button type="button" variant="danger" className="h-8 px-2.5" aria-expanded={panel === "remove"} onClick={() => open("remove")} aria-label={`Remove ${server.name}`}>
          Remove
        </Button>
      </div>

      {message ? <Alert tone="success">{message}</Alert> : null}
      {probeFailure ? (
        <div role="alert" className="space-y-2 rounded-control border border-danger/40 bg-danger-surface px-3 py-2 text-sm text-danger">
          <p>{probeFailure}</p>
          {!enabled ? (
            <Button type="button" variant="danger" className="h-8 px-2.5" disabled={pending} onClick={() => run(() => setServerEnabledAction({ serverId: server.id, enabled: true, force: true }), "Enabled despite the failed check.")}>
              Enable anyway
            </Button>
          ) : null}
        </div>
      ) : null}
      {panel === "none" && result && !result.ok && !errors.probe ? <Alert tone="danger">{result.error}</Alert> : null}

      {panel === "edit" ? (
        <ServerForm
          server={server}
          audienceBase={audienceBase}
          onDone={() => {
            setPanel("none");
            setMessage("Saved.");
          }}
        />
      ) : null}

      {panel === "disable" ? (
        <ReasonPanel
          label={`Disable ${server.name}`}
          reasonId={ids.reason}
          reason={reason}
          onReason={setReason}
          reasonError={errors.reason}
          error={result && !result.ok && !errors.reason ? result.error : null}
          pending={pending}
          submitLabel="Confirm disable"
          submitVariant="danger"
          onSubmit={() => run(() => setServerEnabledAction({ serverId: server.id, enabled: false, reason }), "Disabled.")}
          onCancel={() => open("disable")}
        >
          The gateway stops serving /mcp/{server.slug} at once and health checks stop.{" "}
          {liveHandles > 0 ? `Its ${liveHandles} live ${liveHandles === 1 ? "handle is" : "handles are"} refused while it is disabled, not revoked.` : ""}
        </ReasonPanel>
      ) : null}

      {panel === "polling" ? (
        <ReasonPanel
          label={`${pollingPaused ? "Resume" : "Pause"} polling of ${server.name}`}
          reasonId={`${ids.reason}-polling`}
          reason={reason}
          onReason={setReason}
          reasonError={errors.reason}
          error={result && !result.ok && !errors.reason ? result.error : null}
          pending={pending}
          submitLabel={pollingPaused ? "Resume polling" : "Pause polling"}
          onSubmit={() => run(() => setServerPollingAction({ serverId: server.id, paused: !pollingPaused, reason }), pollingPaused ? "Polling resumed." : "Polling paused.")}
          onCancel={() => open("polling")}
        >
          {pollingPaused
            ? "Tether polls this server's live tasks for their status again."
            : "Tether stops polling this server's live tasks; the gateway keeps serving it, and statuses change only when agents poll."}
        </ReasonPanel>
      ) : null}

      {panel === "remove" ? (
        <form
          noValidate
          aria-label={`Remove ${server.name}`}
          className="max-w-lg space-y-3 rounded-control border border-danger/40 p-3"
          onSubmit={(e) => {
            e.preventDefault();
            run(() => removeServerAction({ serverId: server.id, reason, ...(handling ? { handling } : {}) }), "Removed.");
          }}
        >
          <p className="text-sm">
            Removes <span className="font-medium">{server.name}</span> from the registry: /mcp/{server.slug} stops working at once, and the slug is not reused. This cannot be undone.
          </p>
          {liveHandles > 0 ? (
            <fieldset className="space-y-1.5" aria-describedby={errors.handling ? `${ids.handling}-error` : undefined}>
              <legend className="text-sm font-medium">
                It has {liveHandles} live task {liveHandles === 1 ? "handle" : "handles"}. What happens to {liveHandles === 1 ? "it" : "them"}?
              </legend>
              <label className="flex items-start gap-2 text-sm">
                <input type="radio" name={ids.handling} value="revoke_all" checked={handling === "revoke_all"} onChange={() => setHandling("revoke_all")} className="mt-1" />
                <span>
                  Revoke them all <span className="text-fg-muted">(each revocation is audited, trigger server_removed)</span>
                </span>
              </label>
              <label className="flex items-start gap-2 text-sm">
                <input type="radio" name={ids.handling} value="keep_orphans" checked={handling === "keep_orphans"} onChange={() => setHandling("keep_orphans")} className="mt-1" />
                <span>
                  Keep them as orphans <span className="text-fg-muted">(they stay in the inventory until they expire; the gateway refuses them)</span>
                </span>
              </label>
              {errors.handling ? (
                <p id={`${ids.handling}-error`} className="text-xs text-danger">
                  {errors.handling}
                </p>
              ) : null}
            </fieldset>
          ) : null}
          <ReasonField id={`${ids.reason}-remove`} value={reason} error={errors.reason} onChange={setReason} />
          <div className="flex gap-2">
            <Button type="submit" variant="danger" className="h-8 px-2.5" disabled={pending}>
              Remove server
            </Button>
            <Button type="button" variant="ghost" className="h-8 px-2.5" onClick={() => open("remove")}>
              Cancel
            </Button>
          </div>
          {result && !result.ok && !errors.reason && !errors.handling ? <p className="text-xs text-danger">{result.error}</p> : null}
        </form>
      ) : null}
    </div>
  );
}

/** A small confirmation form: what will happen, a reason for the audit trail, confirm or cancel. Also used by the handle actions. */
export function ReasonPanel(props: {
  label: string;
  reasonId: string;
  reason: string;
  onReason: (v: string) => void;
  reasonError: string | undefined;
  error: string | null;
  pending: boolean;
  submitLabel: string;
  submitVariant?: "danger";
  onSubmit: () => void;
  onCancel: () => void;
  children: React.ReactNode;
}) {
  return (
    <form
      noValidate
      aria-label={props.label}
      className="max-w-lg space-y-2 rounded-control border border-border p-3"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSubmit();
      }}
    >
      <p className="text-sm text-fg-muted">{props.children}</p>
      <ReasonField id={props.reasonId} value={props.reason} error={props.reasonError} onChange={props.onReason} />
      <div className="flex gap-2">
        <Button type="submit" {...(props.submitVariant ? { variant: props.submitVariant } : {})} className="h-8 px-2.5" disabled={props.pending}>
          {props.submitLabel}
        </Button>
        <Button type="button" variant="ghost" className="h-8 px-2.5" onClick={props.onCancel}>
          Cancel
        </Button>
      </div>
      {props.error ? <p className="text-xs text-danger">{props.error}</p> : null}
    </form>
  );
}

function ReasonField({ id, value, error, onChange }: { id: string; value: string; error: string | undefined; onChange: (v: string) => void }) {
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-xs font-medium text-fg-muted">
        Reason (recorded in the audit trail)
      </label>
      <input
        id={id}
        value={value}
        maxLength={500}
        autoFocus
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => onChange(e.target.value)}
        className={INPUT}
      />
      {error ? (
        <p id={`${id}-error`} className="text-xs text-danger">
          {error}
        </p>
      ) : null}
    </div>
  );
}
