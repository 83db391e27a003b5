import "server-only";
import { requestUpstream } from "./request-upstream";
import type { TUpstreamCall } from "./upstream";

/**
 * Best-effort `tasks/cancel` for an upstream task that must not run on (Tether refused to mint
 * its handle). Returns whether the upstream accepted the cancel.
 */
export async function cancelUpstreamTask(call: TUpstreamCall, upstreamTaskId: string): Promise<boolean> {
  try {
    return "result" in (await requestUpstream(call, "tasks/cancel", { taskId: upstreamTaskId }));
  } catch {
    return false;
  }
}
