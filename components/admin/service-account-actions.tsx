"use client";

import { useActionState, useState } from "react";
import { setServiceAccountDisabledAction } from "@/app/(console)/admin/agents/actions";
import { Button } from "@/components/ui/button";
import type { TActionResult } from "@/lib/http/action-result";

/** Disable or enable an agent, with a confirmation step and a mandatory reason. */
export function ServiceAccountActions({ account }: { account: { id: string; name: string; disabled: boolean; activeKeys: number } }) {
  const [confirming, setConfirming] = useState(false);
  const [state, action, pending] = useActionState(async (prev: TActionResult<unknown> | null, form: FormData) => {
    const result = await setServiceAccountDisabledAction(prev, form);
    if (result.ok) setConfirming(false);
    return result;
  }, null);
  const verb = account.disabled ? "Enable" : "Disable";
  const error = state && !state.ok ? (state.fieldErrors.reason ?? state.error) : null;
  const reasonId = `account-reason-${account.id}`;

  return (
    <div className="flex flex-col items-end gap-2">
      {!confirming ? (
        <Button type="button" variant={account.disabled ? "secondary" : "danger"} className="h-8 px-2.5" onClick={() => setConfirming(true)} aria-label={`${verb} ${account.name}`}>
          {verb}
        </Button>
      ) : (
        <form action={action} noValidate className="w-80 max-w-full space-y-2" aria-label={`${verb} ${account.name}`}>
          <input type="hidden" name="principalId" value={account.id} />
          <input type="hidden" name="disabled" value={account.disabled ? "false" : "true"} />
          <p className="text-xs text-fg-muted">
            {account.disabled
              ? "Its keys that are not revoked or expired work again."
              : `Its keys are kept but refused while the account is disabled (${account.activeKeys} active).`}
          </p>
          <label htmlFor={reasonId} className="sr-only">
            Reason
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
          <div className="flex justify-end gap-2">
            <Button type="button" variant="ghost" className="h-8 px-2.5" onClick={() => setConfirming(false)}>
              Cancel
            </Button>
            <Button type="submit" variant={account.disabled ? "primary" : "danger"} className="h-8 px-2.5" disabled={pending}>
              Confirm {verb.toLowerCase()}
            </Button>
          </div>
        </form>
      )}
      {error ? (
        <p id={`${reasonId}-error`} role="alert" className="text-xs text-danger">
          {error}
        </p>
      ) : null}
    </div>
  );
}
