"use client";

import { useActionState, useState } from "react";
import { revokeApiKeyAction } from "@/app/(console)/admin/agents/actions";
import { Button } from "@/components/ui/button";
import type { TActionResult } from "@/lib/http/action-result";

/** Revoke with a confirmation step and a mandatory reason (recorded in the audit trail). */
export function ApiKeyRowActions({ apiKey }: { apiKey: { id: string; prefix: string; name: string } }) {
  const [confirming, setConfirming] = useState(false);
  const [state, action, pending] = useActionState(async (prev: TActionResult<unknown> | null, form: FormData) => {
    const result = await revokeApiKeyAction(prev, form);
    if (result.ok) setConfirming(false);
    return result;
  }, null);
  const label = `${apiKey.name} (${apiKey.prefix})`;
  const error = state && !state.ok ? (state.fieldErrors.reason ?? state.error) : null;
  const reasonId = `revoke-reason-${apiKey.id}`;

  if (!confirming) {
    return (
      <Button type="button" variant="secondary" className="h-8 px-2.5" onClick={() => setConfirming(true)} aria-label={`Revoke key ${label}`}>
        Revoke
      </Button>
    );
  }
  return (
    <form action={action} noValidate className="w-72 max-w-full space-y-2 text-left" aria-label={`Revoke key ${label}`}>
      <input type="hidden" name="keyId" value={apiKey.id} />
      <p className="text-xs text-fg-muted">Agents using this key are refused at once, and the live task handles minted with it are revoked. This cannot be undone.</p>
      <label htmlFor={reasonId} className="sr-only">
        Reason for revoking {label}
      </label>
      <input
        id={reasonId}
        name="reason"
        required
        minLength={3}
        maxLength={500}
        autoFocus
        placeholder="Reason (recorded in the audit trail)"
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${reasonId}-error` : undefined}
        className="block w-full rounded-control border border-border bg-surface px-2 py-1 text-sm aria-[invalid=true]:border-danger"
      />
      <div className="flex flex-wrap gap-2">
        <Button type="submit" variant="danger" className="h-8 px-2.5" disabled={pending}>
          {pending ? "Revoking…" : "Confirm revoke"}
        </Button>
        <Button type="button" variant="ghost" className="h-8 px-2.5" onClick={() => setConfirming(false)}>
          Cancel
        </Button>
      </div>
      {error ? (
        <p id={`${reasonId}-error`} role="alert" className="text-xs text-danger">
          {error}
        </p>
      ) : null}
    </form>
  );
}
