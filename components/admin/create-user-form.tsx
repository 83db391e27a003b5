"use client";

import { useActionState, useEffect, useRef } from "react";
import { createUserAction } from "@/app/(console)/admin/actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { SelectField, TextField } from "@/components/ui/field";
import { ROLES } from "@/lib/auth/permissions";

export function CreateUserForm() {
  const [state, action, pending] = useActionState(createUserAction, null);
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (state?.ok) formRef.current?.reset();
  }, [state]);
  const errors = state && !state.ok ? state.fieldErrors : {};
  // React resets a form after its action; failed submissions come back with what was typed
  // (not the password), and the key makes the inputs take those values as their defaults.
  const values = state && !state.ok ? (state.values ?? {}) : {};
  return (
    <form ref={formRef} action={action} key={JSON.stringify(values)} noValidate className="space-y-4 rounded-card border border-border bg-surface p-4" aria-labelledby="create-user-title">
      <h2 id="create-user-title" className="font-semibold">
        Add a user
      </h2>
      {state && !state.ok ? <Alert tone="danger">{state.error}</Alert> : null}
      {state?.ok ? <Alert tone="success">{state.message}</Alert> : null}
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField id="new-email" name="email" type="email" label="Email" required defaultValue={values.email} error={errors.email} />
        <TextField id="new-name" name="name" label="Name" required defaultValue={values.name} error={errors.name} />
        <SelectField id="new-role" name="role" label="Role" defaultValue={values.role || "viewer"} error={errors.role}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </SelectField>
        <TextField
          id="new-password"
          name="password"
          type="password"
          label="Initial password"
          autoComplete="new-password"
          hint="At least 12 characters. Leave empty for single sign-on only."
          error={errors.password}
        />
      </div>
      <Button type="submit" disabled={pending}>
        {pending ? "Adding…" : "Add user"}
      </Button>
    </form>
  );
}
