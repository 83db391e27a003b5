"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { requireActionActor } from "@/lib/auth/action-actor";
import { deleteSavedView } from "@/lib/handles/delete-saved-view";
import { saveSavedView } from "@/lib/handles/save-saved-view";
import type { TSavedViewDto } from "@/lib/handles/saved-view-schemas";
import { toActionResult, type TActionResult } from "@/lib/http/action-result";
import { normaliseRequestId } from "@/lib/http/request-meta";

// Server actions of the inventory's saved views (Next.js accepts them only from the console's own
// origin). API clients use /api/v1/handle-views; both call the same use cases.

const PAGE = "/handles";

async function requestId() {
  return normaliseRequestId((await headers()).get("x-request-id"));
}

export async function saveViewAction(input: { name: unknown; query: unknown }): Promise<TActionResult<{ view: TSavedViewDto; replaced: boolean }>> {
  const result = await toActionResult(await requestId(), async () => saveSavedView({ actor: await requireActionActor(), data: { name: input.name, query: input.query } }));
  if (result.ok) revalidatePath(PAGE);
  return result;
}

export async function deleteViewAction(id: unknown): Promise<TActionResult<{ id: string; name: string }>> {
  const result = await toActionResult(await requestId(), async () => deleteSavedView({ actor: await requireActionActor(), id }));
  if (result.ok) revalidatePath(PAGE);
  return result;
}
