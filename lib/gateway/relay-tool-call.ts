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
import { asAgentExtTask, optsIntoTasksExtension, parseExtCreateTaskResult } from "./task-wire";

type TJson = Record<string, unknown>;
const isObject = (v: unknown): v is TJson => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * `tools/call`, relayed. A call that may create a task (2025-11-25: `params.task`; 2026-07-28: the
 * agent declared the Tasks extension in its per-request capabilities) is checked against the
 * live-handle cap before it reaches the upstream, and a requested TTL is clamped to the policy
 * there already. When the upstream answers with a CreateTaskResult (`{ task }` on the core wire,
 * a flat task with `resultType: "task"` on the extension), the handle is minted and the agent
 * gets its token as `taskId`; if Tether must refuse the handle, the upstream task is cancelled
 * and the agent gets an error, so no task runs that no handle governs.
 */
export async function relayToolCall(ctx: TGatewayContext, request: TJsonRpcRequest): Promise<Response> {
  const params = request.params ?? {};
  const toolName = typeof params.name === "string" ? params.name : "";
  const ext = ctx.wire === "ext_2026_07_28";
  let requestedTtlMs: number | null = null;
  let forwarded: TJson = request;

  // On the 2026-07-28 wire the agent only opts in (its per-request capabilities, forwarded as
  // they are) and the upstream decides; there is no requested TTL to clamp beforehand.
  const mayCreateTask = ext ? optsIntoTasksExtension(request) : params.task !== undefined;
  if (!ext && params.task !== undefined) {
    if (!isObject(params.task)) return rpcError(request.id, RPC_ERROR.INVALID_PARAMS, 'params.task must be an object, for example { "ttl": 60000 }.');
    const ttl = params.task.ttl;
    if (ttl !== undefined && ttl !== null && (typeof ttl !== "number" || !Number.isFinite(ttl) || ttl < MIN_TTL_MS)) {
      return rpcError(request.id, RPC_ERROR.INVALID_PARAMS, `params.task.ttl must be a number of milliseconds, at least ${MIN_TTL_MS}.`);
    }
    requestedTtlMs = typeof ttl === "number" ? ttl : null;
  }
  if (mayCreateTask) {
    const policy = await getCurrentPolicy();
    const live = await countLiveHandles(ctx.actor.id);
    if (live >= policy.maxLiveHandlesPerPrincipal) return rpcError(request.id, RPC_ERROR.SERVER, liveHandleCapMessage(live, policy.maxLiveHandlesPerPrincipal));
    // The upstream is asked for no more than Tether will honour (it may still choose less).
    if (!ext) forwarded = { ...request, params: { ...params, task: { ...(params.task as TJson), ttl: Math.min(requestedTtlMs ?? policy.defaultTtlMs, policy.maxTtlMs) } } };
  }

  const known = new Map<string, string | null>();
  const onAnswer = async (message: TJson): Promise<TJson> => {
    const result = message.result;
    if (!isObject(result) || !(ext ? result.resultType === "task" : "task" in result)) return message;
    const task = ext ? parseExtCreateTaskResult(result) : (ZCreateTaskResult.safeParse(result).data?.task ?? null);
    if (!task) {
      log.warn({ requestId: ctx.actor.request.requestId, serverId: ctx.server.id }, "Upstream returned an invalid CreateTaskResult");
      return errorResponse(request.id, RPC_ERROR.INTERNAL, "The upstream server returned an invalid task; no handle was issued.");
    }
    const upstreamCall = { server: ctx.server, sessionId: ctx.session.upstreamSessionId, protocolVersion: ctx.session.protocolVersion };
    if (!mayCreateTask) {
      // Spec (extension, "Capability Negotiation"): a task for a request that did not opt in is an
      // invalid answer. No handle stands for it, so it must not run.
      known.set(task.taskId, null);
      await cancelUpstreamTask(upstreamCall, task.taskId);
      return errorResponse(request.id, RPC_ERROR.INTERNAL, "The upstream server answered with a task although the request did not opt into tasks; the task was cancelled.");
    }
    try {
      const minted = await mintHandle({ actor: ctx.actor, serverId: ctx.server.id, audience: ctx.server.audience, sessionId: ctx.session.id, wire: ctx.wire, toolName, upstreamTask: task, requestedTtlMs });
      known.set(task.taskId, minted.token);
      const agentResult = ext ? asAgentExtTask(result, minted.token, minted.effectiveTtlMs) : { ...result, task: { ...(result.task as TJson), taskId: minted.token, ttl: minted.effectiveTtlMs } };
      return { ...message, result: agentResult };
    } catch (err) {
      known.set(task.taskId, null);
      const cancelled = await cancelUpstreamTask(upstreamCall, task.taskId);
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
