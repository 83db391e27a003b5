"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { requireActionActor } from "@/lib/auth/action-actor";
import { cancelHandle } from "@/lib/handles/cancel-handle";
import type { TCancelState } from "@/lib/handles/handle-detail-schemas";
import { revokeHandle } from "@/lib/handles/revoke-handle";
import { toActionResult, type TActionResult } from "@/lib/http/action-result";
import { normaliseRequestId } from "@/lib/http/request-meta";

// Server actions of the handle page and the support view (POSTs Next.js accepts only from the
// console's own origin). Each takes {accessor, reason}; the use cases validate both.

export type THandleActionDone = { accessor: string; cancelState: TCancelState | null; nextAttemptAt: Date | null; status: string | null };

async function requestId() {
  return normaliseRequestId((await headers()).get("x-request-id"));
}

const fieldsOf = (input: unknown) => (input && typeof input === "object" ? (input as Record<string, unknown>) : {});

function refresh(accessor: string) {
  revalidatePath(`/handles/${accessor}`);
  revalidatePath("/handles/active");
  revalidatePath("/handles");
}

export async function revokeHandleAction(input: unknown): Promise<TActionResult<THandleActionDone>> {
  const { accessor, reason } = fieldsOf(input);
  const result = await toActionResult(await requestId(), async () => {
    const revoked = await revokeHandle({ actor: await requireActionActor(), data: { accessor, reason } });
    return { accessor: revoked.accessor, cancelState: null, nextAttemptAt: null, status: null };
  }, "Revoked: the gateway refuses this handle from its next call.");
  if (result.ok) refresh(result.data.accessor);
  return result;
}

const CANCEL_MESSAGES: Record<TCancelState, string> = {
  confirmed: "Cancel confirmed by the upstream server; the handle is revoked.",
  already_terminal: "The task had already ended upstream; the handle is revoked.",
  not_supported: "The upstream server does not support cancelling, so the task may run on; the handle is revoked.",
  unreachable: "The upstream server is unreachable; Tether keeps retrying the cancel. The handle is revoked.",
  requested: "Cancel requested.",
  none: "Cancel requested.",
};

export async function cancelHandleAction(input: unknown): Promise<TActionResult<THandleActionDone>> {
  const { accessor, reason } = fieldsOf(input);
  const result = await toActionResult(await requestId(), async () => {
    const handle = await cancelHandle({ actor: await requireActionActor(), data: { accessor, reason } });
    return { accessor: handle.accessor, cancelState: handle.cancel.state, nextAttemptAt: handle.cancel.nextAttemptAt, status: handle.status };
  });
  if (!result.ok) return result;
  refresh(result.data.accessor);
  return { ...result, message: CANCEL_MESSAGES[result.data.cancelState ?? "requested"] };
}
