"use client";

import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { createBulkActionAction } from "@/app/(console)/bulk/actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import type { TBulkPreview, TBulkSelectionInput } from "@/lib/bulk/schemas";

/**
 * Step 2 of a bulk action: a mandatory reason and one button that names the count the reviewer
 * has just seen. The server freezes exactly that set, or refuses when it changed meanwhile; then
 * the page shows the set as it is now and the reviewer decides again.
 */
export function BulkRequestForm({ preview, selection }: { preview: TBulkPreview; selection: TBulkSelectionInput }) {
  const router = useRouter();
  const [reason, setReason] = useState("");
  const [error, setError] = useState<{ message: string; field?: string; changed: boolean } | null>(null);
  const [pending, start] = useTransition();
  const count = preview.count.toLocaleString("en");
  const noun = preview.count === 1 ? "handle" : "handles";
  const verb = preview.kind === "revoke" ? "Revoke" : "Cancel";
  const label = preview.needsApproval ? `Request approval to ${verb.toLowerCase()} ${count} ${noun}` : `${verb} ${count} ${noun}`;

  function submit() {
    setError(null);
    start(async () => {
      const result = await createBulkActionAction({
        kind: preview.kind,
        selection,
        reason,
        expectedCount: preview.count,
        fingerprint: preview.fingerprint,
        asOf: preview.asOf,
      });
      if (result.ok) {
        router.push(`/bulk/${result.data.id}`);
        return;
      }
      const field = result.fieldErrors.reason;
      setError({ message: field ?? result.error, ...(field ? { field: "reason" } : {}), changed: result.code === "CONFLICT" });
    });
  }

  if (preview.count === 0) return <Alert>Nothing to do: no handle in this selection can be {preview.kind === "revoke" ? "revoked" : "cancelled"}.</Alert>;
  return (
    <form
      noValidate
      aria-label="Confirm the bulk action"
      className="space-y-3 rounded-card border border-border bg-surface px-4 py-4"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <div className="space-y-1">
        <label htmlFor="bulk-reason" className="block text-sm font-medium">
          Reason (required; recorded with every handle in the audit trail)
        </label>
        <textarea
          id="bulk-reason"
          value={reason}
          maxLength={500}
          rows={2}
          aria-invalid={error?.field === "reason" ? true : undefined}
          aria-describedby={error?.field === "reason" ? "bulk-reason-error" : undefined}
          onChange={(e) => setReason(e.target.value)}
          className="block w-full rounded-control border border-border bg-surface px-3 py-2 text-sm text-fg aria-[invalid=true]:border-danger"
        />
        {error?.field === "reason" ? (
          <p id="bulk-reason-error" className="text-xs text-danger">
            {error.message}
          </p>
        ) : null}
      </div>
      <p className="text-sm text-fg-muted">
        {preview.kind === "revoke"
          ? "The gateway refuses each handle from its next call; the upstream tasks are not told and may run on."
          : "Tether sends tasks/cancel upstream for each task with the server's own credentials, records each outcome, and revokes each handle."}{" "}
        {preview.needsApproval
          ? `More than ${preview.approvalThreshold.toLocaleString("en")} handles: a second reviewer or admin must approve before anything happens.`
          : "It runs at once, in the background; you can follow it and stop it."}{" "}
        This cannot be undone.
      </p>
      {error && !error.field ? (
        <Alert tone={error.changed ? "warning" : "danger"}>
          {error.message}{" "}
          {error.changed ? (
            <button type="button" className="font-medium underline underline-offset-4" onClick={() => router.refresh()}>
              Preview again
            </button>
          ) : null}
        </Alert>
      ) : null}
      <Button type="submit" variant="danger" disabled={pending}>
        {pending ? "Submitting…" : label}
      </Button>
    </form>
  );
}
