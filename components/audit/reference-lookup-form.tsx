"use client";

import { useActionState } from "react";
import { findReferenceAction } from "@/app/(console)/audit/actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { AUDIT_REFERENCE_KINDS } from "@/lib/audit/schemas";

const KIND_LABELS: Record<(typeof AUDIT_REFERENCE_KINDS)[number], string> = {
  email: "Email address",
  token: "Handle token",
  "api-key": "API key",
  value: "Other value (exact)",
};

/**
 * Admin only. Audit rows refer to secret values by keyed hash; this hashes a value the admin
 * already knows, on the server, and opens the list filtered to events that contain the hash.
 * The value is sent in the POST body only: never in a URL, never stored, never logged.
 */
export function ReferenceLookupForm() {
  const [state, action, pending] = useActionState(findReferenceAction, null);
  const failed = state && !state.ok ? state : null;
  return (
    <details className="mb-4 rounded-card border border-border bg-surface" open={failed ? true : undefined}>
      <summary className="cursor-pointer select-none px-4 py-2.5 text-sm font-medium">Find events that refer to a secret value</summary>
      <form action={action} noValidate className="space-y-3 border-t border-border px-4 py-3" aria-describedby="ref-lookup-hint">
        <p id="ref-lookup-hint" className="text-xs text-fg-muted">
          The value is hashed with the instance key and then forgotten; only its kind is recorded in the audit trail.
        </p>
        {failed ? <Alert tone="danger">{failed.fieldErrors.value ?? failed.fieldErrors.kind ?? failed.error}</Alert> : null}
        <div className="flex flex-wrap items-end gap-3">
          <div className="space-y-1">
            <label htmlFor="ref-kind" className="block text-xs font-medium text-fg-muted">
              Kind
            </label>
            <select id="ref-kind" name="kind" defaultValue={failed?.values?.kind || "email"} className="rounded-control border border-border bg-surface px-2.5 py-1.5 text-sm">
              {AUDIT_REFERENCE_KINDS.map((kind) => (
                <option key={kind} value={kind}>
                  {KIND_LABELS[kind]}
                </option>
              ))}
            </select>
          </div>
          <div className="min-w-64 flex-1 space-y-1">
            <label htmlFor="ref-value" className="block text-xs font-medium text-fg-muted">
              Value
            </label>
            <input
              id="ref-value"
              name="value"
              type="password"
              autoComplete="off"
              spellCheck={false}
              required
              aria-invalid={failed?.fieldErrors.value ? true : undefined}
              className="block w-full rounded-control border border-border bg-surface px-2.5 py-1.5 font-mono text-sm aria-[invalid=true]:border-danger"
            />
          </div>
          <Button type="submit" variant="secondary" disabled={pending}>
            {pending ? "Searching…" : "Find events"}
          </Button>
        </div>
      </form>
    </details>
  );
}
