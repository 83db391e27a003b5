import "server-only";
import { randomUUID } from "node:crypto";
import { postUpstream, readUpstreamEvents, type TUpstreamCall } from "./upstream";

/**
 * Best-effort `tasks/cancel` for an upstream task that must not run on (Tether refused to mint
 * its handle). Returns whether the upstream accepted the cancel.
 */
export async function cancelUpstreamTask(call: TUpstreamCall, upstreamTaskId: string): Promise<boolean> {
  try {
    const id = `tether-cancel-${randomUUID()}`;
    const response = await postUpstream(call, { jsonrpc: "2.0", id, method: "tasks/cancel", params: { taskId: upstreamTaskId } }, 5_000);
    if (!response.ok) {
      await response.body?.cancel();
      return false;
    }
    for await (const event of readUpstreamEvents(response)) {
      const message = JSON.parse(event.data) as { id?: unknown; result?: unknown };
      if (message.id === id) return message.result !== undefined;
    }
    return false;
  } catch {
    return false;
  }
}
