import "server-only";
import { authorizeHandleUse } from "./authorize-handle-use";
import { consumeTaskRateLimit } from "./consume-task-rate-limit";
import type { TGatewayContext } from "./create-exchange";
import type { TJsonRpcRequest } from "./jsonrpc";

type TJson = Record<string, unknown>;
const isObject = (v: unknown): v is TJson => typeof v === "object" && v !== null && !Array.isArray(v);
/** More task ids than one agent could hold live under any sane policy: the rest are ignored. */
const MAX_LISTEN_TASKS = 1_000;

/**
 * `subscriptions/listen` on the 2026-07-28 wire names the tasks to hear about by id: each token
 * is checked like any task operation (a refusal is audited) and replaced by its upstream id; a
 * token the agent may not use is left out, as an upstream leaves out ids it does not know. The
 * returned map turns the upstream ids in the acknowledgement and the notifications back into
 * the agent's tokens.
 */
export async function translateListenRequest(ctx: TGatewayContext, request: TJsonRpcRequest): Promise<{ message: TJsonRpcRequest; known: Map<string, string | null>; ttls: Map<string, number> }> {
  const known = new Map<string, string | null>();
  const ttls = new Map<string, number>();
  const params = request.params ?? {};
  const notifications = isObject(params.notifications) ? params.notifications : null;
  if (!notifications || !Array.isArray(notifications.taskIds)) return { message: request, known, ttls };
  const upstreamIds: string[] = [];
  for (const token of notifications.taskIds.slice(0, MAX_LISTEN_TASKS)) {
    if ((await consumeTaskRateLimit({ actor: ctx.actor, serverId: ctx.server.id, operation: "related-task" })) !== null) break;
    const handle = await authorizeHandleUse({ actor: ctx.actor, serverId: ctx.server.id, sessionId: null, wire: ctx.wire, token, operation: "related-task" });
    if (!handle) continue;
    upstreamIds.push(handle.upstreamTaskId);
    known.set(handle.upstreamTaskId, token as string);
    ttls.set(handle.upstreamTaskId, handle.effectiveTtlMs);
  }
  return { message: { ...request, params: { ...params, notifications: { ...notifications, taskIds: upstreamIds } } }, known, ttls };
}
