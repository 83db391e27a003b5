"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { requireActionActor } from "@/lib/auth/action-actor";
import { requestReport } from "@/lib/compliance/request-report";
import { toActionResult, type TActionResult } from "@/lib/http/action-result";
import { normaliseRequestId } from "@/lib/http/request-meta";

// Server actions of the reports pages (POSTs Next.js accepts only from the console's own origin).
// The use case validates the period; a report queued here opens on its own page.

async function requestId() {
  return normaliseRequestId((await headers()).get("x-request-id"));
}

const PERIOD_FIELDS = ["preset", "quarter", "start", "end"] as const;

export async function requestReportAction(_prev: TActionResult<unknown> | null, form: FormData): Promise<TActionResult<unknown>> {
  // Only the fields the chosen preset uses, and no empty ones (an empty custom date is "missing").
  const data: Record<string, string> = {};
  for (const name of PERIOD_FIELDS) {
    const value = form.get(name);
    if (typeof value === "string" && value.trim() !== "") data[name] = value.trim();
  }
  if (data.preset !== "quarter") delete data.quarter;
  if (data.preset !== "custom") {
    delete data.start;
    delete data.end;
  }
  const result = await toActionResult(await requestId(), async () => requestReport({ actor: await requireActionActor(), data }), undefined, data);
  if (!result.ok) return result;
  revalidatePath("/reports");
  redirect(`/reports/${result.data.id}`);
}

export async function regenerateReportAction(_prev: TActionResult<unknown> | null, form: FormData): Promise<TActionResult<unknown>> {
  const result = await toActionResult(await requestId(), async () => requestReport({ actor: await requireActionActor(), data: { regenerate: String(form.get("reportId") ?? "") } }));
  if (!result.ok) return result;
  revalidatePath("/reports");
  redirect(`/reports/${result.data.id}`);
}
