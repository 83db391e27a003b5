import "server-only";
import type { TGatewayContext } from "./create-exchange";
import { consumeTaskRateLimit } from "./consume-task-rate-limit";
import { forwardToUpstream } from "./forward-to-upstream";
import { jsonRpcHttpResponse, rpcError } from "./gateway-http";
import { RPC_ERROR, taskNotFound, type TJsonRpcRequest } from "./jsonrpc";
import { recordAgentCancelOutcome, recordAgentCancelRequested, type TCancelOutcome } from "./record-agent-cancel";
import { recheckHandle } from "./recheck-handle";
import { recordHandleDenial } from "./record-handle-denial";
import { recordHandleUse } from "./record-handle-use";
import { getMintingSession } from "./resolve-gateway-session";
import { requestUpstream } from "./request-upstream";
import { resolveTaskCall } from "./resolve-task-call";
import { ZUpstreamTask, type TUpstreamTask } from "./task-shape";
import { asAgentExtTask, parseExtDetailedTask } from "./task-wire";

type TJson = Record<string, unknown>;
const isObject = (v: unknown): v is TJson => typeof v === "object" && v !== null && !Array.isArray(v);

export type TTaskOperation = "tasks/get" | "tasks/result" | "tasks/cancel" | "tasks/update";

/** Refusals the gateway answers with before a token is even looked at. */
export async function refuseIfRateLimited(ctx: TGatewayContext, request: TJsonRpcRequest, operation: string): Promise<Response | null> {
  const retryAfter = await consumeTaskRateLimit({ actor: ctx.actor, serverId: ctx.server.id, operation });
  if (retryAfter === null) return null;
  return rpcError(request.id, RPC_ERROR.RATE_LIMITED, `Rate limit exceeded for task operations; retry in ${retryAfter} s.`);
}

async function observeTask(ctx: TGatewayContext, upstreamTaskId: string): Promise<TUpstreamTask | null> {
  try {
    const answer = await requestUpstream(
      { server: ctx.server, sessionId: ctx.session.upstreamSessionId, protocolVersion: ctx.session.protocolVersion },
      "tasks/get",
      { taskId: upstreamTaskId },
    );
    const task = "result" in answer ? ZUpstreamTask.safeParse(answer.result) : null;
    return task?.success ? task.data : null;
  } catch {
    return null; // the result went through; the status is refreshed by the next poll
  }
}

function cancelOutcome(message: TJson): TCancelOutcome {
  if (isObject(message.result)) return "confirmed";
  const code = isObject(message.error) ? message.error.code : undefined;
  return code === RPC_ERROR.METHOD_NOT_FOUND ? "not_supported" : code === RPC_ERROR.INVALID_PARAMS ? "already_terminal" : "unreachable";
}

/**
 * `tasks/get`, `tasks/result`, `tasks/cancel` (and `tasks/update`): the token is checked on every
 * use; any refusal answers exactly like an unknown task. Allowed calls go upstream with the
 * upstream id, and the answer comes back with the token in its place; what the answer says about
 * the task is folded into the handle.
 */
export async function relayTaskCall(
  base: Omit<TGatewayContext, "session">,
  sessionHeader: string | null,
  request: TJsonRpcRequest,
  operation: TTaskOperation,
  /** The protocol version of a session-less 2026-07-28 call; null on the 2025-11-25 wire. */
  modernVersion: string | null = null,
): Promise<Response> {
  const params = request.params ?? {};
  const ext = base.wire === "ext_2026_07_28";
  // The rate-limit count (a write) and the one-statement check run side by side.
  const [retryAfter, resolved] = await Promise.all([
    consumeTaskRateLimit({ actor: base.actor, serverId: base.server.id, operation }),
    resolveTaskCall({ ctx: base, sessionHeader, modernVersion, token: params.taskId, operation }),
  ]);
  if (retryAfter !== null) return rpcError(request.id, RPC_ERROR.RATE_LIMITED, `Rate limit exceeded for task operations; retry in ${retryAfter} s.`);
  const { handle } = resolved;
  let ctx: TGatewayContext = { ...base, session: resolved.session };
  if (!handle) {
    await resolved.recordDenial();
    return jsonRpcHttpResponse(taskNotFound(request.id));
  }
  const token = params.taskId as string;
  // Unbound sessions (policy): the same agent may use the handle from another of its sessions,
  // but the call must reach the upstream session that owns the task.
  if (!ext && handle.sessionId && handle.sessionId !== ctx.session.id) {
    const minting = await getMintingSession(handle.sessionId);
    if (!minting) return jsonRpcHttpResponse(taskNotFound(request.id));
    ctx = { ...ctx, session: minting };
  }
  const known = new Map<string, string | null>([[handle.upstreamTaskId, token]]);
  const forwarded = { ...request, params: { ...params, taskId: handle.upstreamTaskId } };

  let attempt = 0;
  if (operation === "tasks/cancel") attempt = await recordAgentCancelRequested({ actor: ctx.actor, handle });

  const onAnswer = async (message: TJson): Promise<TJson> => {
    if (operation === "tasks/result") {
      // The result may come long after the check: the handle must still be usable to receive it.
      const cause = await recheckHandle(handle.id);
      if (cause) {
        await recordHandleDenial({ actor: ctx.actor, serverId: ctx.server.id, operation, cause, handle, token });
        return taskNotFound(request.id);
      }
    }
    if (ext) return onExtAnswer(message);
    const task = isObject(message.result) ? ZUpstreamTask.safeParse(message.result) : null;
    if (operation === "tasks/cancel") {
      await recordAgentCancelOutcome({ actor: ctx.actor, handle, outcome: cancelOutcome(message), attempt });
    } else if (operation === "tasks/get") {
      await recordHandleUse({ actor: ctx.actor, handle, operation, observed: task?.success ? task.data : null });
    } else if (operation === "tasks/result") {
      // A result means the task has ended, but not how: ask, so the inventory and tasks/list do
      // not keep showing a finished task as working or waiting for input.
      await recordHandleUse({ actor: ctx.actor, handle, operation, observed: await observeTask(ctx, handle.upstreamTaskId) });
    }
    if (!task?.success || operation === "tasks/result") return message;
    // The agent sees the TTL Tether enforces, not the upstream's.
    return { ...message, result: { ...task.data, taskId: token, ttl: handle.effectiveTtlMs } };
  };
  // The 2026-07-28 wire: `tasks/get` answers with the whole task, its result or error inline
  // (delivering it counts as fetching the result); `tasks/update` and `tasks/cancel` with an
  // empty acknowledgement.
  const onExtAnswer = async (message: TJson): Promise<TJson> => {
    if (operation === "tasks/cancel") {
      await recordAgentCancelOutcome({ actor: ctx.actor, handle, outcome: cancelOutcome(message), attempt });
      return message;
    }
    const task = operation === "tasks/get" && isObject(message.result) ? parseExtDetailedTask(message.result) : null;
    if (operation === "tasks/get") {
      const delivers = (task?.detail.status === "completed" || task?.detail.status === "failed") && handle.resultAllowed;
      if (delivers) {
        const cause = await recheckHandle(handle.id);
        if (cause) {
          await recordHandleDenial({ actor: ctx.actor, serverId: ctx.server.id, operation, cause, handle, token });
          return taskNotFound(request.id);
        }
      }
      await recordHandleUse({ actor: ctx.actor, handle, operation: delivers ? "tasks/result" : operation, observed: task });
    } else {
      await recordHandleUse({ actor: ctx.actor, handle, operation: "tasks/update", observed: null });
    }
    if (!task || !isObject(message.result)) return message;
    const shown = asAgentExtTask(message.result, token, handle.effectiveTtlMs);
    // A policy without `tasks/result` withholds results on this wire too, where they come inline.
    if (!handle.resultAllowed) {
      delete shown.result;
      delete shown.error;
      if (task.detail.status === "completed" || task.detail.status === "failed") shown.statusMessage = "The task has ended; Tether's policy does not allow fetching task results.";
    }
    return { ...message, result: shown };
  };

  const untilExpiry = Math.max(1_000, handle.expiresAt.getTime() - Date.now());
  return forwardToUpstream(ctx, forwarded, {
    method: operation,
    pendingId: request.id,
    onAnswer,
    known,
    accessor: handle.accessor,
    ...(operation === "tasks/result" ? { timeoutMs: untilExpiry } : {}),
    ...(operation === "tasks/cancel" ? { onUnreachable: () => recordAgentCancelOutcome({ actor: ctx.actor, handle, outcome: "unreachable", attempt }) } : {}),
  });
}
