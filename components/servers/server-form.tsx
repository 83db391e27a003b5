"use client";

import { useState, useTransition } from "react";
import { registerServerAction, updateServerAction, type TServerSaved } from "@/app/(console)/admin/servers/actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/field";
import type { TActionResult } from "@/lib/http/action-result";
import { TASK_WIRE_LABELS, type TCredentialKind, type TServerDto } from "@/lib/servers/schemas";

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
  credentials: TCredentialKind;
  /** The stored OAuth settings that are not secret (never the client secret). */
  oauth: TServerDto["oauth"];
};

type TCredentialMode = "bearer" | "oauth";

type TValues = {
  name: string;
  slug: string;
  url: string;
  credentialMode: TCredentialMode;
  bearerToken: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  resource: string;
  oauthAudience: string;
  clearCredentials: boolean;
  audience: string;
  tags: string;
  pollMinMs: string;
  pollMaxMs: string;
  pollConcurrency: string;
};

const EMPTY_CREDENTIALS = { credentialMode: "bearer", bearerToken: "", tokenUrl: "", clientId: "", clientSecret: "", scope: "", resource: "", oauthAudience: "", clearCredentials: false } as const;

const EMPTY: TValues = { name: "", slug: "", url: "", ...EMPTY_CREDENTIALS, audience: "", tags: "", pollMinMs: "1000", pollMaxMs: "30000", pollConcurrency: "8" };

function valuesOf(server: TEditableServer | undefined): TValues {
  if (!server) return EMPTY;
  return {
    name: server.name,
    slug: server.slug,
    url: server.url,
    ...EMPTY_CREDENTIALS,
    // The secret fields stay empty: a stored secret is never sent to the page.
    credentialMode: server.credentials === "oauth_client_credentials" ? "oauth" : "bearer",
    tokenUrl: server.oauth?.tokenUrl ?? "",
    clientId: server.oauth?.clientId ?? "",
    scope: server.oauth?.scope ?? "",
    resource: server.oauth?.resource ?? "",
    oauthAudience: server.oauth?.audience ?? "",
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

/** What the form sends about credentials: a new token, OAuth settings (the secret only when typed), removal, or nothing. */
function credentialsOf(values: TValues, editing: boolean) {
  if (editing && values.clearCredentials) return { clearCredentials: true };
  if (values.credentialMode === "bearer") return values.bearerToken.trim() ? { bearerToken: values.bearerToken } : {};
  return {
    oauth: {
      tokenUrl: values.tokenUrl,
      clientId: values.clientId,
      ...(values.clientSecret.trim() ? { clientSecret: values.clientSecret } : {}),
      scope: values.scope,
      resource: values.resource,
      audience: values.oauthAudience,
    },
  };
}

/**
 * Registers a server, or edits one. Tether checks the connection on save and says exactly what
 * failed; the admin may then save anyway, and the server is saved disabled. Credentials are a
 * bearer token or OAuth client credentials; the secret fields (token, client secret) are
 * write-only: never filled from the server, and the page never receives a stored secret.
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
      ...credentialsOf(values, editing),
      ...(values.audience.trim() ? { audience: values.audience } : {}),
      tags: values.tags.split(/[,\s]+/).filter(Boolean),
      pollMinMs: numberOf(values.pollMinMs),
      pollMaxMs: numberOf(values.pollMaxMs),
      pollConcurrency: numberOf(values.pollConcurrency),
      force,
    };
    startSave(async () => {
      const answer = editing
        ? await updateServerAction({ serverId: server.id, ...common })
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
        <CredentialsFields idPrefix={idPrefix} server={server} values={values} errors={errors} update={update} />
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

const SECRET_PLACEHOLDER = "set — leave empty to keep";

/** The credentials part of the form: a bearer token, or OAuth client credentials, or (editing) removal. */
function CredentialsFields({
  idPrefix,
  server,
  values,
  errors,
  update,
}: {
  idPrefix: string;
  server: TEditableServer | undefined;
  values: TValues;
  errors: Record<string, string>;
  update: (patch: Partial<TValues>) => void;
}) {
  const stored = server?.credentials ?? "none";
  const off = values.clearCredentials;
  const storedOAuth = stored === "oauth_client_credentials";
  return (
    <fieldset className="space-y-3 sm:col-span-2 rounded-control border border-border px-3 py-2">
      <legend className="px-1 text-sm font-medium">Upstream credentials</legend>
      <div className="flex flex-wrap gap-4 text-sm" role="radiogroup" aria-label="Kind of upstream credentials">
        {(
          [
            ["bearer", "Static token"],
            ["oauth", "OAuth client credentials"],
          ] as const
        ).map(([mode, label]) => (
          <label key={mode} className="flex items-center gap-2">
            <input type="radio" name={`${idPrefix}-credential-mode`} value={mode} checked={values.credentialMode === mode} disabled={off} onChange={() => update({ credentialMode: mode })} />
            {label}
          </label>
        ))}
      </div>
      {stored === "unreadable" ? <p className="text-xs text-danger">The stored credentials can no longer be decrypted (was TETHER_ENCRYPTION_KEY changed?): enter them again.</p> : null}
      {errors.oauth ? <p className="text-xs text-danger">{errors.oauth}</p> : null}
      {values.credentialMode === "bearer" ? (
        <TextField
          id={`${idPrefix}-token`}
          label="Bearer token"
          type="password"
          autoComplete="new-password"
          spellCheck={false}
          placeholder={server ? (stored === "bearer" ? SECRET_PLACEHOLDER : storedOAuth ? "enter one to replace the OAuth client credentials" : "none — enter one to set") : "optional"}
          value={values.bearerToken}
          disabled={off}
          error={errors.bearerToken}
          hint="Sent upstream as Authorization: Bearer …; stored encrypted and never shown again."
          onChange={(e) => update({ bearerToken: e.target.value })}
        />
      ) : (
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField
            id={`${idPrefix}-token-url`}
            label="Token endpoint URL"
            type="url"
            autoComplete="off"
            spellCheck={false}
            placeholder="https://idp.example.com/oauth2/token"
            value={values.tokenUrl}
            disabled={off}
            error={errors["oauth.tokenUrl"]}
            hint="Tether asks it for an access token (grant_type=client_credentials, client_secret_basic)."
            onChange={(e) => update({ tokenUrl: e.target.value })}
          />
          <TextField
            id={`${idPrefix}-client-id`}
            label="Client ID"
            autoComplete="off"
            spellCheck={false}
            value={values.clientId}
            disabled={off}
            error={errors["oauth.clientId"]}
            onChange={(e) => update({ clientId: e.target.value })}
          />
          <TextField
            id={`${idPrefix}-client-secret`}
            label="Client secret"
            type="password"
            autoComplete="new-password"
            spellCheck={false}
            placeholder={storedOAuth ? SECRET_PLACEHOLDER : "required"}
            value={values.clientSecret}
            disabled={off}
            error={errors["oauth.clientSecret"]}
            hint="Stored encrypted and never shown again."
            onChange={(e) => update({ clientSecret: e.target.value })}
          />
          <TextField
            id={`${idPrefix}-scope`}
            label="Scope"
            autoComplete="off"
            spellCheck={false}
            placeholder="optional, e.g. mcp:tools"
            value={values.scope}
            disabled={off}
            error={errors["oauth.scope"]}
            onChange={(e) => update({ scope: e.target.value })}
          />
          <TextField
            id={`${idPrefix}-resource`}
            label="Resource"
            type="url"
            autoComplete="off"
            spellCheck={false}
            placeholder="optional, e.g. the server URL"
            value={values.resource}
            disabled={off}
            error={errors["oauth.resource"]}
            hint="RFC 8707 resource indicator: the API the token is for."
            onChange={(e) => update({ resource: e.target.value })}
          />
          <TextField
            id={`${idPrefix}-oauth-audience`}
            label="Token audience"
            autoComplete="off"
            spellCheck={false}
            placeholder="optional"
            value={values.oauthAudience}
            disabled={off}
            error={errors["oauth.audience"]}
            hint="Sent as audience= for providers that use it instead of resource."
            onChange={(e) => update({ oauthAudience: e.target.value })}
          />
        </div>
      )}
      {server && stored !== "none" ? (
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={values.clearCredentials} onChange={(e) => update({ clearCredentials: e.target.checked, bearerToken: "", clientSecret: "" })} />
          Remove the stored credentials
        </label>
      ) : null}
    </fieldset>
  );
}
