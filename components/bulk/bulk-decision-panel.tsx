"use client";

import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { approveBulkActionAction, cancelBulkActionAction, rejectBulkActionAction, type TBulkDone } from "@/app/(console)/bulk/actions";
import { ReasonPanel } from "@/components/servers/server-manage-panel";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import type { TActionResult } from "@/lib/http/action-result";

type TPanel = "none" | "reject" | "cancel";

/**
 * What the viewer may decide about a bulk action: approve or reject it (a second reviewer or
 * admin, while it awaits approval) and stop it (anyone with the right, until it finishes). The
 * page decides what to offer from the job and the viewer; the server checks again.
 */
export function BulkDecisionPanel({ id, canApprove, canCancel, count }: { id: string; canApprove: boolean; canCancel: boolean; count: number }) {
  const router = useRouter();
  const [panel, setPanel] = useState<TPanel>("none");
  const [reason, setReason] = useState("");
  const [result, setResult] = useState<TActionResult<TBulkDone> | null>(null);
  const [pending, start] = useTransition();
  const errors = result && !result.ok ? result.fieldErrors : {};

  function run(action: () => Promise<TActionResult<TBulkDone>>) {
    start(async () => {
      const answer = await action();
      setResult(answer);
      if (answer.ok) {
        setPanel("none");
        setReason("");
      }
      router.refresh();
    });
  }
  function open(next: TPanel) {
    setPanel((p) => (p === next ? "none" : next));
    setResult(null);
  }

  if (!canApprove && !canCancel && !result) return null;
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap gap-2">
        {canApprove ? (
          <Button type="button" disabled={pending} onClick={() => run(() => approveBulkActionAction(id))}>
            {pending && panel === "none" ? "Approving…" : `Approve (${count.toLocaleString("en")} handles)`}
          </Button>
        ) : null}
        {canApprove ? (
          <Button type="button" variant="secondary" aria-expanded={panel === "reject"} onClick={() => open("reject")}>
            Reject
          </Button>
        ) : null}
        {canCancel ? (
          <Button type="button" variant="secondary" aria-expanded={panel === "cancel"} onClick={() => open("cancel")}>
            Cancel job
          </Button>
        ) : null}
      </div>
      {result?.ok && result.message ? <Alert tone="success">{result.message}</Alert> : null}
      {result && !result.ok && panel === "none" ? <Alert tone="danger">{result.error}</Alert> : null}
      {panel === "reject" && canApprove ? (
        <ReasonPanel
          label="Reject this bulk action"
          reasonId="bulk-reject-reason"
          reason={reason}
          onReason={setReason}
          reasonError={errors.reason}
          error={result && !result.ok && !errors.reason ? result.error : null}
          pending={pending}
          submitLabel={pending ? "Rejecting…" : "Confirm reject"}
          onSubmit={() => run(() => rejectBulkActionAction({ id, reason }))}
          onCancel={() => open("reject")}
        >
          The bulk action will never run. The requester sees your reason.
        </ReasonPanel>
      ) : null}
      {panel === "cancel" && canCancel ? (
        <ReasonPanel
          label="Cancel this bulk action"
          reasonId="bulk-cancel-reason"
          reason={reason}
          onReason={setReason}
          reasonError={errors.reason}
          error={result && !result.ok && !errors.reason ? result.error : null}
          pending={pending}
          submitLabel={pending ? "Cancelling…" : "Confirm cancel"}
          submitVariant="danger"
          onSubmit={() => run(() => cancelBulkActionAction({ id, reason }))}
          onCancel={() => open("cancel")}
        >
          No further handle is touched. Handles already revoked or cancelled stay so.
        </ReasonPanel>
      ) : null}
    </div>
  );
}
