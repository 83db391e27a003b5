"use client";

import { useActionState } from "react";
import { createServiceAccountAction } from "@/app/(console)/admin/agents/actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { SelectField, TextField } from "@/components/ui/field";
import { ROLES } from "@/lib/auth/permissions";

export function CreateServiceAccountForm() {
  const [state, action, pending] = useActionState(createServiceAccountAction, null);
  const errors = state && !state.ok ? state.fieldErrors : {};
  // React resets the form after its action; a failed submission comes back with what was typed.
  const values = state && !state.ok ? (state.values ?? {}) : {};
  return (
    <form action={action} key={JSON.stringify(values)} noValidate className="space-y-4 rounded-card border border-border bg-surface p-4" aria-labelledby="create-account-title">
      <div>
        <h2 id="create-account-title" className="font-semibold">
          Add a service account
        </h2>
        <p className="mt-1 text-sm text-fg-muted">An agent that calls Tether with API keys. It has no password and cannot sign in to the console.</p>
      </div>
      {state && !state.ok ? <Alert tone="danger">{state.error}</Alert> : null}
      {state?.ok ? <Alert tone="success">{state.message}</Alert> : null}
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField id="new-account-name" name="name" label="Name" required maxLength={120} placeholder="e.g. research-agent" defaultValue={values.name} error={errors.name} autoComplete="off" />
        <div className="space-y-1.5">
          <SelectField id="new-account-role" name="role" label="Role" defaultValue={values.role || "viewer"} error={errors.role} aria-describedby={errors.role ? "new-account-role-error" : "new-account-role-hint"}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </SelectField>
          {errors.role ? null : (
          <p id="new-account-role-hint" className="text-xs text-fg-muted">
            What the agent may do through the REST API, as for a console user with this role. A viewer reads and changes nothing.
          </p>
          )}
        </div>
      </div>
      <Button type="submit" disabled={pending}>
        {pending ? "Adding…" : "Add service account"}
      </Button>
    </form>
  );
}
