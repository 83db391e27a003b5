"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { requireActionActor } from "@/lib/auth/action-actor";
import { toActionResult, type TActionResult } from "@/lib/http/action-result";
import { normaliseRequestId } from "@/lib/http/request-meta";
import { registerServer } from "@/lib/servers/register-server";
import { removeServer, type TRemovedServer } from "@/lib/servers/remove-server";
import type { TProbeResult, TServerDto } from "@/lib/servers/schemas";
import { setServerEnabled } from "@/lib/servers/set-server-enabled";
import { setServerPolling } from "@/lib/servers/set-server-polling";
import { updateServer } from "@/lib/servers/update-server";

// Server actions of /admin/servers (POSTs that Next.js accepts only from the page's own origin).
// Each takes the form's fields as an object; the use cases validate every field. A bearer token
// goes in, never out: results carry the saved server's summary, not its credentials.

export type TServerSaved = { id: string; name: string; enabled: boolean; taskWires: TServerDto["taskWires"]; problem: TProbeResult["problem"] };

async function requestId() {
  return normaliseRequestId((await headers()).get("x-request-id"));
}

function refresh() {
  revalidatePath("/admin/servers");
  revalidatePath("/servers");
}

function saved(server: TServerDto, check: TProbeResult | null): TServerSaved {
  return { id: server.id, name: server.name, enabled: server.enabled, taskWires: server.taskWires, problem: check?.problem ?? null };
}

export async function registerServerAction(input: unknown): Promise<TActionResult<TServerSaved>> {
  const result = await toActionResult(await requestId(), async () => {
    const { server, check } = await registerServer({ actor: await requireActionActor(), data: input });
    return saved(server, check);
  });
  if (result.ok) refresh();
  return result;
}

export async function updateServerAction(input: unknown): Promise<TActionResult<TServerSaved>> {
  const result = await toActionResult(await requestId(), async () => {
    const { server, check } = await updateServer({ actor: await requireActionActor(), data: input });
    return saved(server, check);
  });
  if (result.ok) refresh();
  return result;
}

export async function setServerEnabledAction(input: unknown): Promise<TActionResult<{ enabled: boolean }>> {
  const result = await toActionResult(await requestId(), async () => {
    const server = await setServerEnabled({ actor: await requireActionActor(), data: input });
    return { enabled: server.enabled };
  });
  if (result.ok) refresh();
  return result;
}

export async function setServerPollingAction(input: unknown): Promise<TActionResult<{ pollingPaused: boolean }>> {
  const result = await toActionResult(await requestId(), async () => {
    const server = await setServerPolling({ actor: await requireActionActor(), data: input });
    return { pollingPaused: server.pollingPaused };
  });
  if (result.ok) refresh();
  return result;
}

export async function removeServerAction(input: unknown): Promise<TActionResult<TRemovedServer>> {
  const result = await toActionResult(await requestId(), async () => removeServer({ actor: await requireActionActor(), data: input }));
  if (result.ok) refresh();
  return result;
}
