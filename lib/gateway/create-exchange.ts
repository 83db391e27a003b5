import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { requestEarlyPoll } from "@/lib/handles/request-early-poll";
import { findHandleByUpstreamId } from "./find-handle-by-upstream-id";
import type { TJsonRpcId } from "./jsonrpc";
import { recordUpstreamError } from "./record-upstream-error";
import type { TExchange } from "./relay-upstream-answer";
import type { TGatewaySession } from "./resolve-gateway-session";
import { relatedTaskId, scrubUpstreamIds, withRelatedTaskId } from "./rewrite-task-ids";
import type { TUpstreamServer } from "./upstream";

type TJson = Record<string, unknown>;

/** Everything a gateway call knows about who is calling, where, and in which session. */
export type TGatewayContext = {
  actor: TActor;
  server: TUpstreamServer;
  session: TGatewaySession;
  downstreamSessionId: string;
  signal: AbortSignal;
};

const isObject = (v: unknown): v is TJson => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The exchange for one relayed message: upstream messages are translated to the agent's view
 * (task ids → the caller's own tokens; unknown ones dropped or stripped), the answer to the
 * pending request goes through `onAnswer`, and everything is scrubbed of known upstream ids.
 */
export function createExchange(
  ctx: TGatewayContext,
  options: {
    method: string;
    pendingId: TJsonRpcId | null;
    onAnswer?: (message: TJson) => Promise<TJson>;
    /** Upstream id → token pairs already known in this exchange (the task call's own handle). */
    known?: Map<string, string | null>;
    accessor?: string | null;
  },
): TExchange {
  const known = options.known ?? new Map<string, string | null>();

  const handleIds = new Map<string, string>();
  const tokenFor = async (upstreamTaskId: string): Promise<string | null> => {
    if (known.has(upstreamTaskId)) return known.get(upstreamTaskId) ?? null;
    const found = await findHandleByUpstreamId({ serverId: ctx.server.id, principalId: ctx.actor.id, sessionId: ctx.session.id, upstreamTaskId });
    known.set(upstreamTaskId, found?.token ?? null);
    if (found) handleIds.set(upstreamTaskId, found.id);
    return found?.token ?? null;
  };

  const translate = async (message: TJson): Promise<TJson | null> => {
    let out = message;
    if (message.method === "notifications/tasks/status") {
      const params = isObject(message.params) ? message.params : {};
      const token = typeof params.taskId === "string" ? await tokenFor(params.taskId) : null;
      if (!token) return null; // a task the caller holds no handle for: not theirs to hear about
      // A hint, never trusted as the status itself (spec: requestors must not rely on these):
      // the status-sync worker polls this handle at its next round.
      const handleId = handleIds.get(params.taskId as string);
      if (handleId) await requestEarlyPoll(handleId);
      out = { ...message, params: { ...params, taskId: token } };
    }
    const related = relatedTaskId(out);
    if (related !== undefined) out = withRelatedTaskId(out, typeof related === "string" ? await tokenFor(related) : null);
    return out;
  };

  return {
    pendingId: options.pendingId,
    downstreamSessionId: ctx.downstreamSessionId,
    async transform(message) {
      const isAnswer = options.pendingId !== null && message.id === options.pendingId && !("method" in message);
      const answered = isAnswer && options.onAnswer ? await options.onAnswer(message) : message;
      return translate(answered);
    },
    serialize(message) {
      return scrubUpstreamIds(JSON.stringify(message), known);
    },
    async onFailure(detail, err) {
      await recordUpstreamError({ actor: ctx.actor, serverId: ctx.server.id, method: options.method, detail, accessor: options.accessor ?? null, err });
    },
  };
}
