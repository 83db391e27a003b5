"use client";

import { useActionState } from "react";
import { regenerateReportAction } from "@/app/(console)/reports/actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";

/** Generates the same period again as a new report (a generated report never changes). */
export function RegenerateButton({ reportId }: { reportId: string }) {
  const [state, action, pending] = useActionState(regenerateReportAction, null);
  return (
    <form action={action} className="inline-flex items-center gap-2">
      <input type="hidden" name="reportId" value={reportId} />
      <Button type="submit" variant="secondary" disabled={pending}>
        {pending ? "Queuing…" : "Regenerate"}
      </Button>
      {state && !state.ok ? <Alert tone="danger">{state.error}</Alert> : null}
    </form>
  );
}
