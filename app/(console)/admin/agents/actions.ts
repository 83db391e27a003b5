"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { createApiKey } from "@/lib/api-keys/create-api-key";
import { createServiceAccount } from "@/lib/api-keys/create-service-account";
import { revokeApiKey } from "@/lib/api-keys/revoke-api-key";
import { setServiceAccountDisabled } from "@/lib/api-keys/set-service-account-disabled";
import { requireActionActor } from "@/lib/auth/action-actor";
import { toActionResult, type TActionResult } from "@/lib/http/action-result";
import { normaliseRequestId } from "@/lib/http/request-meta";

// Server actions of /admin/agents. Next.js accepts them only from the page's own origin (CSRF).
// A new API key leaves the server once, in createApiKeyAction's result: it is never put in a URL,
// a log line, a revalidated page or the values echoed back to a form.

const PAGE = "/admin/agents";

async function requestId() {
  return normaliseRequestId((await headers()).get("x-request-id"));
}

const text = (form: FormData, name: string) => String(form.get(name) ?? "");

export async function createServiceAccountAction(_prev: TActionResult<unknown> | null, form: FormData): Promise<TActionResult<unknown>> {
  const result = await toActionResult(await requestId(), async () => {
    const actor = await requireActionActor();
    return createServiceAccount({ actor, data: { name: form.get("name"), role: form.get("role") } });
  }, "Service account created.", { name: text(form, "name"), role: text(form, "role") });
  if (result.ok) revalidatePath(PAGE);
  return result;
}

export async function setServiceAccountDisabledAction(_prev: TActionResult<unknown> | null, form: FormData): Promise<TActionResult<unknown>> {
  const disabled = form.get("disabled") === "true";
  const result = await toActionResult(await requestId(), async () => {
    const actor = await requireActionActor();
    return setServiceAccountDisabled({ actor, data: { principalId: form.get("principalId"), disabled, reason: form.get("reason") } });
  }, disabled ? "Service account disabled." : "Service account enabled.");
  if (result.ok) revalidatePath(PAGE);
  return result;
}

export type TNewApiKey = { key: string; id: string; prefix: string; name: string; expiresAt: Date | null };

/** "never" is an explicit no-expiry; an empty choice takes the default (90 days). */
function expiresInDaysOf(value: FormDataEntryValue | null): unknown {
  if (value === null || value === "") return undefined;
  if (value === "never") return null;
  return /^\d{1,4}$/.test(String(value)) ? Number(value) : value;
}

export async function createApiKeyAction(_prev: TActionResult<TNewApiKey> | null, form: FormData): Promise<TActionResult<TNewApiKey>> {
  const result = await toActionResult(await requestId(), async () => {
    const actor = await requireActionActor();
    const { key, dto } = await createApiKey({
      actor,
      data: { principalId: form.get("principalId"), name: form.get("name"), expiresInDays: expiresInDaysOf(form.get("expiresInDays")) },
    });
    return { key, id: dto.id, prefix: dto.prefix, name: dto.name, expiresAt: dto.expiresAt };
  }, "API key created.", { name: text(form, "name"), expiresInDays: text(form, "expiresInDays") });
  if (result.ok) revalidatePath(PAGE);
  return result;
}

export async function revokeApiKeyAction(_prev: TActionResult<unknown> | null, form: FormData): Promise<TActionResult<unknown>> {
  const result = await toActionResult(await requestId(), async () => {
    const actor = await requireActionActor();
    return revokeApiKey({ actor, data: { keyId: form.get("keyId"), reason: form.get("reason") } });
  }, "API key revoked.");
  if (result.ok) revalidatePath(PAGE);
  return result;
}
