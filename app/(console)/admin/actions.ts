"use server";

import { revalidatePath } from "next/cache";
import { requireActionActor } from "@/lib/auth/action-actor";
import { toActionResult, type TActionResult } from "@/lib/http/action-result";
import { normaliseRequestId } from "@/lib/http/request-meta";
import { changeUserRole } from "@/lib/users/change-user-role";
import { createUser } from "@/lib/users/create-user";
import { setUserDisabled } from "@/lib/users/set-user-disabled";
import { headers } from "next/headers";

// Server actions are POSTs that Next.js accepts only from the page's own origin (its
// built-in Origin/Host check), which is the CSRF defence for console mutations.

async function requestId() {
  return normaliseRequestId((await headers()).get("x-request-id"));
}

export async function createUserAction(_prev: TActionResult<unknown> | null, form: FormData): Promise<TActionResult<unknown>> {
  const result = await toActionResult(await requestId(), async () => {
    const actor = await requireActionActor();
    const password = form.get("password");
    return createUser({
      actor,
      data: { email: form.get("email"), name: form.get("name"), role: form.get("role"), ...(password ? { password } : {}) },
    });
  }, "User created.", { email: String(form.get("email") ?? ""), name: String(form.get("name") ?? ""), role: String(form.get("role") ?? "") });
  if (result.ok) revalidatePath("/admin");
  return result;
}

export async function changeRoleAction(_prev: TActionResult<unknown> | null, form: FormData): Promise<TActionResult<unknown>> {
  const result = await toActionResult(await requestId(), async () => {
    const actor = await requireActionActor();
    return changeUserRole({ actor, data: { userId: form.get("userId"), role: form.get("role") } });
  }, "Role changed.");
  if (result.ok) revalidatePath("/admin");
  return result;
}

export async function setDisabledAction(_prev: TActionResult<unknown> | null, form: FormData): Promise<TActionResult<unknown>> {
  const result = await toActionResult(await requestId(), async () => {
    const actor = await requireActionActor();
    return setUserDisabled({ actor, data: { userId: form.get("userId"), disabled: form.get("disabled") === "true", reason: form.get("reason") } });
  }, form.get("disabled") === "true" ? "User disabled." : "User enabled.");
  if (result.ok) revalidatePath("/admin");
  return result;
}
