"use client";

import { useActionState, useState } from "react";
import { changeRoleAction, setDisabledAction } from "@/app/(console)/admin/actions";
import { Button } from "@/components/ui/button";
import { ROLES, type TRole } from "@/lib/auth/permissions";

export function UserRowActions({ user, isSelf }: { user: { id: string; email: string | null; role: TRole; disabled: boolean }; isSelf: boolean }) {
  const [roleState, roleAction, rolePending] = useActionState(changeRoleAction, null);
  const [disableState, disableAction, disablePending] = useActionState(setDisabledAction, null);
  const [confirming, setConfirming] = useState(false);
  const label = user.email ?? user.id;
  const error = (roleState && !roleState.ok ? roleState.error : null) ?? (disableState && !disableState.ok ? (disableState.fieldErrors.reason ?? disableState.error) : null);

  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-center gap-2">
        <form action={roleAction} className="flex items-center gap-2">
          <input type="hidden" name="userId" value={user.id} />
          <label className="sr-only" htmlFor={`role-${user.id}`}>
            Role for {label}
          </label>
          <select id={`role-${user.id}`} name="role" defaultValue={user.role} disabled={isSelf} className="rounded-control border border-border bg-surface px-2 py-1 text-sm">
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <Button type="submit" variant="secondary" disabled={isSelf || rolePending} aria-label={`Save role for ${label}`}>
            Save role
          </Button>
        </form>
        {!isSelf ? (
          <Button type="button" variant={user.disabled ? "secondary" : "danger"} onClick={() => setConfirming((v) => !v)} aria-expanded={confirming} aria-label={`${user.disabled ? "Enable" : "Disable"} ${label}`}>
            {user.disabled ? "Enable" : "Disable"}
          </Button>
        ) : null}
      </div>
      {confirming ? (
        <form action={disableAction} className="flex flex-wrap items-center gap-2">
          <input type="hidden" name="userId" value={user.id} />
          <input type="hidden" name="disabled" value={user.disabled ? "false" : "true"} />
          <label className="sr-only" htmlFor={`reason-${user.id}`}>
            Reason
          </label>
          <input id={`reason-${user.id}`} name="reason" required minLength={3} maxLength={500} placeholder="Reason (recorded in the audit trail)" className="min-w-64 flex-1 rounded-control border border-border bg-surface px-2 py-1 text-sm" />
          <Button type="submit" variant={user.disabled ? "primary" : "danger"} disabled={disablePending}>
            Confirm {user.disabled ? "enable" : "disable"}
          </Button>
        </form>
      ) : null}
      {error ? (
        <p role="alert" className="text-xs text-danger">
          {error}
        </p>
      ) : null}
    </div>
  );
}
