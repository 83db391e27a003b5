"use client";

import { useState, useTransition } from "react";
import { registerServerAction, updateServerAction, type TServerSaved } from "@/app/(console)/admin/servers/actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/field";
import type { TActionResult } from "@/lib/http/action-result";
import { TASK_WIRE_LABELS } from "@/lib/servers/schemas";

export type TEditableServer = {
  id: string;
  slug: string;
  name: string;
  url: string;
  audience: string;
  tags: string[];
  pollMinMs: number;
  pollMaxMs: number;
  pollConcurrency: number;
  credentials: "bearer" | "none";
};

type TValues = {
  name: string;
  slug: string;
  url: string;
  bearerToken: string;
  clearCredentials: boolean;
  audience: string;
  tags: string;
  pollMinMs: string;
  pollMaxMs: string;
  pollConcurrency: string;
};

const EMPTY: TValues = { name: "", slug: "", url: "", bearerToken: "", clearCredentials: false, audience: "", tags: "", pollMinMs: "1000", pollMaxMs: "30000", pollConcurrency: "8" };

function valuesOf(server: TEditableServer | undefined): TValues {
  if (!server) return EMPTY;
  return {
    name: server.name,
    slug: server.slug,
    url: server.url,
    bearerToken: "",
    clearCredentials: false,
    audience: server.audience,
    tags: server.tags.join(", "),
    pollMinMs: String(server.pollMinMs),
    pollMaxMs: String(server.pollMaxMs),
    pollConcurrency: String(server.pollConcurrency),
  };
}

/** A whole number when the field holds one; anything else goes to the server as typed, to be named there. */
function numberOf(text: string): number | string | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  return /^\d{1,9}$/.test(t) ? Number(t) : t;
}

/** A suggested slug from a name: lower case, hyphens for everything else. */
function slugFrom(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
}

/**
 * Registers a server, or edits one. Tether checks the connection on save and says exactly what
 * failed; the admin may then save anyway, and the server is saved disabled. The token field is
 * write-only: it is never filled from the server, and the page never receives a stored token.
 */
export function ServerForm({ server, audienceBase, onDone }: { server?: TEditableServer; audienceBase: string; onDone?: () => void }) {
  const editing = server !== undefined;
  const [values, setValues] = useState(() => valuesOf(server));
  const [slugTouched, setSlugTouched] = useState(editing);
  const [result, setResult] = useState<TActionResult<TServerSaved> | null>(null);
  const [pending, startSave] = useTransition();
  const idPrefix = editing ? `edit-${server.id}` : "new-server";
  const errors = result && !result.ok ? result.fieldErrors : {};
  const probeFailure = errors.probe ?? null;

  function update(patch: Partial<TValues>) {
    setValues((v) => ({ ...v, ...patch }));
    setResult(null);
  }

  function save(force: boolean) {
    const common = {
      name: values.name,
      url: values.url,
      ...(values.bearerToken.trim() ? { bearerToken: values.bearerToken } : {}),
      ...(values.audience.trim() ? { audience: values.audience } : {}),
      tags: values.tags.split(/[,\s]+/).filter(Boolean),
      pollMinMs: numberOf(values.pollMinMs),
      pollMaxMs: numberOf(values.pollMaxMs),
      pollConcurrency: numberOf(values.pollConcurrency),
      force,
    };
    startSave(async () => {
      const answer = editing
        ? await updateServerAction({ serverId: server.id, ...common, ...(values.clearCredentials ? { clearCredentials: true } : {}) })
        : await registerServerAction({ slug: values.slug, ...common });
      startSave(() => {
        setResult(answer);
        if (answer.ok) {
          if (editing) onDone?.();
          else {
            setValues(EMPTY);
            setSlugTouched(false);
          }
        }
      });
    });
  }

  const titleId = `${idPrefix}-title`;
  const otherError = result && !result.ok && !probeFailure && Object.keys(errors).length === 0 ? result.error : null;
  return (
    <form
      noValidate
      aria-labelledby={titleId}
      className="space-y-4 rounded-card border border-border bg-surface p-4"
      onSubmit={(e) => {
        e.preventDefault();
        save(false);
      }}
    >
      <div>
        <h2 id={titleId} className="font-semibold">
          {editing ? `Edit ${server.name}` : "Register a server"}
        </h2>
        <p className="mt-1 text-sm text-fg-muted">
          On save, Tether connects with these credentials, runs <code className="font-mono text-xs">initialize</code> and{" "}
          <code className="font-mono text-xs">tools/list</code>, and records what the server declares.
        </p>
      </div>
      {result?.ok ? (
        <Alert tone={result.data.enabled ? "success" : "warning"}>
          {result.data.enabled
            ? `${editing ? "Saved" : "Registered"} ${result.data.name}: ${result.data.taskWires.map((w) => TASK_WIRE_LABELS[w]).join(" and ")} task wire.`
            : `Saved ${result.data.name}, disabled${result.data.problem ? `: ${result.data.problem.message}` : "."}`}
        </Alert>
      ) : null}
      {probeFailure ? (
        <div role="alert" className="space-y-2 rounded-control border border-danger/40 bg-danger-surface px-3 py-2 text-sm text-danger" data-testid="probe-failure">
          <p className="font-medium">The connection check failed.</p>
          <p>{probeFailure}</p>
          <div className="flex flex-wrap gap-2 pt-1">
            <Button type="submit" variant="secondary" disabled={pending}>
              Check again
            </Button>
            <Button type="button" variant="danger" disabled={pending} onClick={() => save(true)}>
              {editing ? "Save anyway (disables the server)" : "Save anyway (disabled)"}
            </Button>
          </div>
        </div>
      ) : null}
      {otherError ? <Alert tone="danger">{otherError}</Alert> : null}
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField
          id={`${idPrefix}-name`}
          label="Name"
          required
          maxLength={120}
          autoComplete="off"
          value={values.name}
          error={errors.name}
          onChange={(e) => update({ name: e.target.value, ...(slugTouched ? {} : { slug: slugFrom(e.target.value) }) })}
        />
        {editing ? (
          <div className="space-y-1.5">
            <p className="block text-sm font-medium">Slug</p>
            <p className="font-mono text-sm">{server.slug}</p>
            <p className="text-xs text-fg-muted">Fixed: the gateway URL /mcp/{server.slug} and the stored credentials depend on it.</p>
          </div>
        ) : (
          <TextField
            id={`${idPrefix}-slug`}
            label="Slug"
            required
            maxLength={63}
            autoComplete="off"
            spellCheck={false}
            value={values.slug}
            error={errors.slug}
            hint="Lower-case letters, digits and hyphens. Agents reach the server at /mcp/<slug>; it cannot change later."
            onChange={(e) => {
              setSlugTouched(true);
              update({ slug: e.target.value });
            }}
          />
        )}
        <TextField
          id={`${idPrefix}-url`}
          label="Server URL"
          type="url"
          required
          autoComplete="off"
          spellCheck={false}
          placeholder="https://mcp.example.com/mcp"
          value={values.url}
          error={errors.url}
          hint="The upstream's Streamable HTTP endpoint."
          onChange={(e) => update({ url: e.target.value })}
        />
        <div className="space-y-1.5">
          <TextField
            id={`${idPrefix}-token`}
            label="Bearer token"
            type="password"
            autoComplete="new-password"
            spellCheck={false}
            placeholder={editing ? (server.credentials === "bearer" ? "set — leave empty to keep" : "none — enter one to set") : "optional"}
            value={values.bearerToken}
            disabled={values.clearCredentials}
            error={errors.bearerToken}
            hint="Sent upstream as Authorization: Bearer …; stored encrypted and never shown again. Bearer tokens only (no OAuth client credentials yet)."
            onChange={(e) => update({ bearerToken: e.target.value })}
          />
          {editing && server.credentials === "bearer" ? (
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" checked={values.clearCredentials} onChange={(e) => update({ clearCredentials: e.target.checked, bearerToken: "" })} />
              Remove the stored token
            </label>
          ) : null}
        </div>
        <TextField
          id={`${idPrefix}-audience`}
          label="Audience URI"
          type="url"
          autoComplete="off"
          spellCheck={false}
          placeholder={`${audienceBase}${values.slug || "<slug>"}`}
          value={values.audience}
          error={errors.audience}
          hint="The audience task handles for this server are bound to. Empty: its gateway address."
          onChange={(e) => update({ audience: e.target.value })}
        />
        <TextField
          id={`${idPrefix}-tags`}
          label="Tags"
          autoComplete="off"
          placeholder="e.g. research, eu"
          value={values.tags}
          error={errors.tags ?? Object.entries(errors).find(([k]) => k.startsWith("tags."))?.[1]}
          hint="Comma-separated."
          onChange={(e) => update({ tags: e.target.value })}
        />
      </div>
      <details className="rounded-control border border-border px-3 py-2" open={Boolean(errors.pollMinMs || errors.pollMaxMs || errors.pollConcurrency) || undefined}>
        <summary className="cursor-pointer text-sm font-medium">Poll settings</summary>
        <p className="mt-1 text-xs text-fg-muted">How Tether polls this server for task status: the task&apos;s own poll interval is clamped to these bounds.</p>
        <div className="mt-3 grid gap-4 sm:grid-cols-3">
          <TextField id={`${idPrefix}-poll-min`} label="Minimum interval (ms)" inputMode="numeric" value={values.pollMinMs} error={errors.pollMinMs} onChange={(e) => update({ pollMinMs: e.target.value })} />
          <TextField id={`${idPrefix}-poll-max`} label="Maximum interval (ms)" inputMode="numeric" value={values.pollMaxMs} error={errors.pollMaxMs} onChange={(e) => update({ pollMaxMs: e.target.value })} />
          <TextField id={`${idPrefix}-poll-concurrency`} label="Concurrent polls" inputMode="numeric" value={values.pollConcurrency} error={errors.pollConcurrency} onChange={(e) => update({ pollConcurrency: e.target.value })} />
        </div>
      </details>
      <div className="flex flex-wrap gap-2">
        <Button type="submit" disabled={pending}>
          {pending ? "Checking the server…" : editing ? "Check and save" : "Check and register"}
        </Button>
        {editing ? (
          <Button type="button" variant="ghost" onClick={onDone} disabled={pending}>
            Cancel
          </Button>
        ) : null}
      </div>
    </form>
  );
}
