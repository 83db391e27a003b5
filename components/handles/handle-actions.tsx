"use client";

import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { cancelHandleAction, revokeHandleAction, type THandleActionDone } from "@/app/(console)/handles/[accessor]/actions";
import { ReasonPanel } from "@/components/servers/server-manage-panel";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import type { TActionResult } from "@/lib/http/action-result";

type TPanel = "none" | "revoke" | "cancel";

/**
 * The actions a viewer's role allows on one handle, each behind a confirmation with a mandatory
 * reason: cancel (tasks/cancel upstream, then revoke) and revoke (Tether stops honouring it; the
 * upstream task may run on). The server decides which are offered and enforces them again.
 */
export function HandleActions({
  accessor,
  canCancel,
  canRevoke,
  primary = "cancel",
  onDone,
}: {
  accessor: string;
  canCancel: boolean;
  canRevoke: boolean;
  /** Which action is the prominent one (the support view: cancel). */
  primary?: "cancel" | "revoke";
  /** Called with the outcome message after a success (the support view shows it above the list). */
  onDone?: (done: THandleActionDone, message: string) => void;
}) {
  const router = useRouter();
  const [panel, setPanel] = useState<TPanel>("none");
  const [reason, setReason] = useState("");
  const [result, setResult] = useState<TActionResult<THandleActionDone> | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [pending, start] = useTransition();
  const errors = result && !result.ok ? result.fieldErrors : {};

  function open(next: TPanel) {
    setPanel((p) => (p === next ? "none" : next));
    setResult(null);
    setMessage(null);
  }

  function run(action: typeof cancelHandleAction) {
    setMessage(null);
    start(async () => {
      const answer = await action({ accessor, reason });
      start(() => {
        setResult(answer);
        if (answer.ok) {
          setPanel("none");
          setReason("");
          const text = answer.message ?? "Done.";
          if (onDone) onDone(answer.data, text);
          else setMessage(text);
        } else if (answer.code === "INVALID_STATE") {
          // Someone else acted first: show the state the handle is in now.
          router.refresh();
        }
      });
    });
  }

  // Rendered by the page for every role that has either right; once the handle leaves the state
  // that allows them, only the last outcome (or refusal) stays on screen.
  if (!canCancel && !canRevoke && !message && !result) return null;
  const panelShown = (panel === "cancel" && canCancel) || (panel === "revoke" && canRevoke);
  const cancelButton = canCancel ? (
    <Button
      key="cancel"
      type="button"
      variant={primary === "cancel" ? "primary" : "secondary"}
      className="h-8 px-2.5"
      aria-expanded={panel === "cancel"}
      aria-label={`Cancel task ${accessor}`}
      onClick={() => open("cancel")}
    >
      Cancel task
    </Button>
  ) : null;
  const revokeButton = canRevoke ? (
    <Button
      key="revoke"
      type="button"
      variant={primary === "revoke" ? "danger" : "secondary"}
      className="h-8 px-2.5"
      aria-expanded={panel === "revoke"}
      aria-label={`Revoke handle ${accessor}`}
      onClick={() => open("revoke")}
    >
      Revoke
    </Button>
  ) : null;
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap gap-2">{primary === "cancel" ? [cancelButton, revokeButton] : [revokeButton, cancelButton]}</div>
      {message ? <Alert tone="success">{message}</Alert> : null}
      {!panelShown && result && !result.ok ? <Alert tone="danger">{result.error}</Alert> : null}
      {panelShown && panel === "cancel" ? (
        <ReasonPanel
          label={`Cancel task ${accessor}`}
          reasonId={`cancel-reason-${accessor}`}
          reason={reason}
          onReason={setReason}
          reasonError={errors.reason}
          error={result && !result.ok && !errors.reason ? result.error : null}
          pending={pending}
          submitLabel={pending ? "Cancelling…" : "Confirm cancel"}
          submitVariant="danger"
          onSubmit={() => run(cancelHandleAction)}
          onCancel={() => open("cancel")}
        >
          Tether sends tasks/cancel to the upstream server with the server&apos;s own credentials, records what it answers, and revokes the handle. If the upstream is
          unreachable, Tether keeps retrying. This cannot be undone.
        </ReasonPanel>
      ) : null}
      {panelShown && panel === "revoke" ? (
        <ReasonPanel
          label={`Revoke handle ${accessor}`}
          reasonId={`revoke-reason-${accessor}`}
          reason={reason}
          onReason={setReason}
          reasonError={errors.reason}
          error={result && !result.ok && !errors.reason ? result.error : null}
          pending={pending}
          submitLabel={pending ? "Revoking…" : "Confirm revoke"}
          submitVariant="danger"
          onSubmit={() => run(revokeHandleAction)}
          onCancel={() => open("revoke")}
        >
          The gateway refuses this handle from its very next call. The upstream task is not cancelled and may run on. This cannot be undone.
        </ReasonPanel>
      ) : null}
    </div>
  );
}
