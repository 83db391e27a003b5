import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import { getPrisma } from "@/lib/db/client";
import { describeErrorForLog, log } from "@/lib/log";
import { getCurrentPolicy } from "@/lib/policy/get-current-policy";
import { MIN_TTL_MS } from "@/lib/policy/schemas";
import { cancelUpstreamTask } from "./cancel-upstream-task";
import type { TGatewayContext } from "./create-exchange";
import { forwardToUpstream } from "./forward-to-upstream";
import { rpcError } from "./gateway-http";
import { RPC_ERROR, errorResponse, type TJsonRpcRequest } from "./jsonrpc";
import { MintRefusedError, countLiveHandles, liveHandleCapMessage, mintHandle } from "./mint-handle";
import { ZCreateTaskResult } from "./task-shape";

type TJson = Record<string, unknown>;
const isObject = (v: unknown): v is TJson => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * `tools/call`, relayed. A task-augmented call is checked against the live-handle cap before it
 * reaches the upstream, and its requested TTL is clamped to the policy there already. When the
 * upstream answers with a CreateTaskResult, the handle is minted and the agent gets its token as
 * `taskId`; if Tether must refuse the handle, the upstream task is cancelled and the agent gets
 * an error, so no task runs that no handle governs.
 */
export async function relayToolCall(ctx: TGatewayContext, request: TJsonRpcRequest): Promise<Response> {
  const params = request.params ?? {};
  const toolName = typeof params.name === "string" ? params.name : "";
  let requestedTtlMs: number | null = null;
  let forwarded: TJson = request;

  if (params.task !== undefined) {
    if (!isObject(params.task)) return rpcError(request.id, RPC_ERROR.INVALID_PARAMS, 'params.task must be an object, for example { "ttl": 60000 }.');
    const ttl = params.task.ttl;
    if (ttl !== undefined && ttl !== null && (typeof ttl !== "number" || !Number.isFinite(ttl) || ttl < MIN_TTL_MS)) {
      return rpcError(request.id, RPC_ERROR.INVALID_PARAMS, `params.task.ttl must be a number of milliseconds, at least ${MIN_TTL_MS}.`);
    }
    const policy = await getCurrentPolicy();
    const live = await countLiveHandles(ctx.actor.id);
    if (live >= policy.maxLiveHandlesPerPrincipal) return rpcError(request.id, RPC_ERROR.SERVER, liveHandleCapMessage(live, policy.maxLiveHandlesPerPrincipal));
    requestedTtlMs = typeof ttl === "number" ? ttl : null;
    // The upstream is asked for no more than Tether will honour (it may still choose less).
    forwarded = { ...request, params: { ...params, task: { ...params.task, ttl: Math.min(requestedTtlMs ?? policy.defaultTtlMs, policy.maxTtlMs) } } };
  }

  const known = new Map<string, string | null>();
  const onAnswer = async (message: TJson): Promise<TJson> => {
    if (!isObject(message.result) || !("task" in message.result)) return message;
    const created = ZCreateTaskResult.safeParse(message.result);
    if (!created.success) {
      log.warn({ requestId: ctx.actor.request.requestId, serverId: ctx.server.id }, "Upstream returned an invalid CreateTaskResult");
      return errorResponse(request.id, RPC_ERROR.INTERNAL, "The upstream server returned an invalid task; no handle was issued.");
    }
    const task = created.data.task;
    try {
      const minted = await mintHandle({ actor: ctx.actor, serverId: ctx.server.id, audience: ctx.server.audience, sessionId: ctx.session.id, toolName, upstreamTask: task, requestedTtlMs });
      known.set(task.taskId, minted.token);
      return { ...message, result: { ...created.data, task: { ...task, taskId: minted.token, ttl: minted.effectiveTtlMs } } };
    } catch (err) {
      known.set(task.taskId, null);
      const cancelled = await cancelUpstreamTask(
        { server: ctx.server, sessionId: ctx.session.upstreamSessionId, protocolVersion: ctx.session.protocolVersion },
        task.taskId,
      );
      if (err instanceof MintRefusedError) {
        await getPrisma().$transaction((tx) =>
          recordAuditEvent(tx, {
            actor: ctx.actor,
            action: "handle.mint_refused",
            outcome: "denied",
            target: { type: "mcp_server", id: ctx.server.id },
            reason: err.message,
            payload: { serverId: ctx.server.id, toolName: toolName.slice(0, 256), cause: err.refusal, upstreamCancel: cancelled ? "requested" : "failed" },
          }),
        );
        return errorResponse(request.id, RPC_ERROR.SERVER, `${err.message} The task was not started.`);
      }
      log.error({ requestId: ctx.actor.request.requestId, err: describeErrorForLog(err) }, "Could not mint a task handle");
      return errorResponse(request.id, RPC_ERROR.INTERNAL, `Tether could not record the task handle, so the task was cancelled. Request id: ${ctx.actor.request.requestId}`);
    }
  };
  return forwardToUpstream(ctx, forwarded, { method: "tools/call", pendingId: request.id, onAnswer, known });
}
