"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { requireActionActor } from "@/lib/auth/action-actor";
import { toActionResult, type TActionResult } from "@/lib/http/action-result";
import { normaliseRequestId } from "@/lib/http/request-meta";
import { changeComplianceThresholds } from "@/lib/policy/change-compliance-thresholds";
import { changePolicy } from "@/lib/policy/change-policy";
import { previewPolicyChange } from "@/lib/policy/preview-policy-change";
import type { TComplianceThresholdsChangeResult, TPolicyChangeResult, TPolicyPreview } from "@/lib/policy/schemas";

// Server actions of the Policy page (POSTs that Next.js accepts only from the page's own origin).
// Each takes the form's values as an object; the use cases validate every field.

async function requestId() {
  return normaliseRequestId((await headers()).get("x-request-id"));
}

/** Saves a new policy version. `confirmedRevocations` is the revocation count the admin confirmed. */
export async function changePolicyAction(input: unknown): Promise<TActionResult<TPolicyChangeResult>> {
  const { confirmedRevocations, ...data } = (input && typeof input === "object" ? input : {}) as Record<string, unknown>;
  const result = await toActionResult(await requestId(), async () =>
    changePolicy({
      actor: await requireActionActor(),
      data,
      ...(typeof confirmedRevocations === "number" ? { confirmedRevocations } : {}),
    }),
  );
  if (result.ok) revalidatePath("/admin/policy");
  return result;
}

/** What saving these settings would do now; writes nothing. */
export async function previewPolicyAction(input: unknown): Promise<TActionResult<TPolicyPreview>> {
  return toActionResult(await requestId(), async () => previewPolicyChange({ actor: await requireActionActor(), data: input }));
}

/** Saves new compliance thresholds ({thresholds: {controlId: {target, partial}}, reason}) as a new policy version. */
export async function changeComplianceThresholdsAction(input: unknown): Promise<TActionResult<TComplianceThresholdsChangeResult>> {
  const result = await toActionResult(await requestId(), async () => changeComplianceThresholds({ actor: await requireActionActor(), data: input }));
  if (result.ok) revalidatePath("/admin/policy");
  return result;
}
