"use client";

import { useActionState, useState } from "react";
import { createApiKeyAction } from "@/app/(console)/admin/agents/actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { NewApiKeyReveal } from "./new-api-key-reveal";

const EXPIRY_CHOICES = [
  { value: "7", label: "7 days" },
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "180", label: "180 days" },
  { value: "365", label: "1 year" },
  { value: "never", label: "Never" },
] as const;

const CONTROL = "block w-full rounded-control border border-border bg-surface px-2.5 py-1.5 text-sm aria-[invalid=true]:border-danger";

/**
 * Issues a key for one service account. The new key lives only in this component's state (the
 * action's result): it is gone after a reload or once the admin clicks Done.
 */
export function CreateApiKeyForm({ principalId, accountName }: { principalId: string; accountName: string }) {
  const [state, action, pending] = useActionState(createApiKeyAction, null);
  const [dismissedId, setDismissedId] = useState<string | null>(null);
  const errors = state && !state.ok ? state.fieldErrors : {};
  const values = state && !state.ok ? (state.values ?? {}) : {};
  const created = state?.ok && state.data.id !== dismissedId ? state.data : null;
  const ids = { name: `key-name-${principalId}`, expiry: `key-expiry-${principalId}` };
  return (
    <div className="space-y-3">
      {created ? <NewApiKeyReveal apiKey={created} accountName={accountName} onDone={() => setDismissedId(created.id)} /> : null}
      <form action={action} key={JSON.stringify(values)} noValidate className="space-y-2" aria-label={`New API key for ${accountName}`}>
        <input type="hidden" name="principalId" value={principalId} />
        {state && !state.ok && !errors.name && !errors.expiresInDays ? <Alert tone="danger">{state.error}</Alert> : null}
        <div className="flex flex-wrap items-end gap-3">
          <div className="min-w-56 flex-1 space-y-1">
            <label htmlFor={ids.name} className="block text-xs font-medium text-fg-muted">
              New key name
            </label>
            <input
              id={ids.name}
              name="name"
              required
              maxLength={100}
              autoComplete="off"
              placeholder="e.g. production"
              defaultValue={values.name}
              aria-invalid={errors.name ? true : undefined}
              aria-describedby={errors.name ? `${ids.name}-error` : undefined}
              className={CONTROL}
            />
          </div>
          <div className="space-y-1">
            <label htmlFor={ids.expiry} className="block text-xs font-medium text-fg-muted">
              Expires after
            </label>
            <select
              id={ids.expiry}
              name="expiresInDays"
              defaultValue={values.expiresInDays || "90"}
              aria-invalid={errors.expiresInDays ? true : undefined}
              aria-describedby={errors.expiresInDays ? `${ids.expiry}-error` : undefined}
              className={CONTROL}
            >
              {EXPIRY_CHOICES.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
          </div>
          <Button type="submit" variant="secondary" disabled={pending}>
            {pending ? "Creating…" : "Create key"}
          </Button>
        </div>
        {errors.name ? (
          <p id={`${ids.name}-error`} className="text-xs text-danger">
            {errors.name}
          </p>
        ) : null}
        {errors.expiresInDays ? (
          <p id={`${ids.expiry}-error`} className="text-xs text-danger">
            {errors.expiresInDays}
          </p>
        ) : null}
      </form>
    </div>
  );
}
