"use server";

import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { hashAuditReference } from "@/lib/audit/hash-audit-reference";
import { requireActionActor } from "@/lib/auth/action-actor";
import { toActionResult, type TActionResult } from "@/lib/http/action-result";
import { normaliseRequestId } from "@/lib/http/request-meta";

// POST from the Audit page (admin only): hash a known secret value and show the events that
// refer to it. The value travels only in this POST body; the list URL carries the keyed hash.
export async function findReferenceAction(_prev: TActionResult<string> | null, form: FormData): Promise<TActionResult<string>> {
  const requestId = normaliseRequestId((await headers()).get("x-request-id"));
  const result = await toActionResult(
    requestId,
    async () => hashAuditReference({ actor: await requireActionActor(), kind: form.get("kind"), value: form.get("value") }),
    undefined,
    // Echo the kind only, never the value.
    { kind: String(form.get("kind") ?? "") },
  );
  if (!result.ok) return result;
  redirect(`/audit?${new URLSearchParams({ refHash: result.data })}`);
}
