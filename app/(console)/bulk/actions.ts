"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { requireActionActor } from "@/lib/auth/action-actor";
import { approveBulkAction } from "@/lib/bulk/approve-bulk-action";
import { cancelBulkAction } from "@/lib/bulk/cancel-bulk-action";
import { createBulkAction } from "@/lib/bulk/create-bulk-action";
import { rejectBulkAction } from "@/lib/bulk/reject-bulk-action";
import type { TBulkStatus } from "@/lib/bulk/schemas";
import { toActionResult, type TActionResult } from "@/lib/http/action-result";
import { normaliseRequestId } from "@/lib/http/request-meta";

// Server actions of the bulk pages (POSTs Next.js accepts only from the console's own origin).
// The use cases validate every field and check every right.

export type TBulkDone = { id: string; status: TBulkStatus };

async function requestId() {
  return normaliseRequestId((await headers()).get("x-request-id"));
}

function refresh(id: string) {
  revalidatePath(`/bulk/${id}`);
  revalidatePath("/bulk");
}

/** Requests the previewed bulk action: {kind, selection, reason, expectedCount, fingerprint, asOf}. */
export async function createBulkActionAction(input: unknown): Promise<TActionResult<TBulkDone>> {
  const result = await toActionResult(await requestId(), async () => {
    const bulk = await createBulkAction({ actor: await requireActionActor(), data: input });
    return { id: bulk.id, status: bulk.status };
  });
  if (result.ok) refresh(result.data.id);
  return result;
}

export async function approveBulkActionAction(id: string): Promise<TActionResult<TBulkDone>> {
  const result = await toActionResult(
    await requestId(),
    async () => {
      const bulk = await approveBulkAction({ actor: await requireActionActor(), id });
      return { id: bulk.id, status: bulk.status };
    },
    "Approved: the job starts within a second.",
  );
  if (result.ok) refresh(result.data.id);
  return result;
}

export async function rejectBulkActionAction(input: { id: string; reason: string }): Promise<TActionResult<TBulkDone>> {
  const result = await toActionResult(
    await requestId(),
    async () => {
      const bulk = await rejectBulkAction({ actor: await requireActionActor(), data: input });
      return { id: bulk.id, status: bulk.status };
    },
    "Rejected: this bulk action will not run.",
  );
  if (result.ok) refresh(result.data.id);
  return result;
}

export async function cancelBulkActionAction(input: { id: string; reason: string }): Promise<TActionResult<TBulkDone>> {
  const result = await toActionResult(
    await requestId(),
    async () => {
      const bulk = await cancelBulkAction({ actor: await requireActionActor(), data: input });
      return { id: bulk.id, status: bulk.status };
    },
    "Cancelled: no further handle is touched; what was done stays done.",
  );
  if (result.ok) refresh(result.data.id);
  return result;
}
