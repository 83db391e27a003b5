import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { requestEarlyPoll } from "@/lib/handles/request-early-poll";
import { log } from "@/lib/log";
import { cancelUpstreamTask } from "./cancel-upstream-task";
import { findHandleByUpstreamId } from "./find-handle-by-upstream-id";
import { HANDLE_TOKEN_PATTERN } from "./handle-token";
import { RPC_ERROR, errorResponse, type TJsonRpcId } from "./jsonrpc";
import { recordUpstreamError } from "./record-upstream-error";
import type { TExchange } from "./relay-upstream-answer";
import type { TGatewaySession } from "./resolve-gateway-session";
import { relatedTaskId, scrubUpstreamIds, withRelatedTaskId } from "./rewrite-task-ids";
import { parseExtTaskNotification, type TTaskWire } from "./task-wire";
import type { TUpstreamServer } from "./upstream";

type TJson = Record<string, unknown>;

/** Everything a gateway call knows about who is calling, where, and in which session. */
export type TGatewayContext = {
  actor: TActor;
  server: TUpstreamServer;
  session: TGatewaySession;
  downstreamSessionId: string;
  signal: AbortSignal;
  /** The task wire of this call: the 2025-11-25 core tasks (sessions) or the 2026-07-28 extension. */
  wire: TTaskWire;
};

const MAX_KNOWN_IDS = 2_000;
const MAX_UNKNOWN_LOOKUPS = 1_000;
/**
 * How long an id found to have no handle is believed so before it is looked up again: 100 ms,
 * doubling after each further miss, up to a minute. A long-lived stream (the session's GET
 * stream) can name a task before the call that created it has minted its handle: the upstream
 * announces the new task there while its answer is still on the way. Believing "no handle" for
 * the stream's whole life would drop every later message about that task (its completion, say);
 * the doubling keeps an id that never gets a handle to a few lookups.
 */
const UNKNOWN_RECHECK_MS = { first: 100, max: 60_000 };

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
    /** Upstream id → the effective TTL of its handle, for those in `known` (2026-07-28 notifications). */
    ttls?: Map<string, number>;
    accessor?: string | null;
  },
): TExchange {
  const known = options.known ?? new Map<string, string | null>();

  const handleIds = new Map<string, string>();
  const ttls = options.ttls ?? new Map<string, number>();
  /** When an id that a lookup found no handle for may be looked up again; ids known to be ungoverned are not in here. */
  const unknownAt = new Map<string, { at: number; waitMs: number }>();
  let unknownLookups = 0;
  const tokenFor = async (upstreamTaskId: string): Promise<string | null> => {
    const token = known.get(upstreamTaskId);
    if (token) return token;
    if (token === null) {
      const recheck = unknownAt.get(upstreamTaskId);
      if (recheck === undefined || performance.now() - recheck.at < recheck.waitMs) return null;
    }
    // A long-lived stream naming ever new task ids must not cost a query each, nor grow without
    // bound: past these limits an unknown id is treated as no handle (dropped or stripped).
    if (unknownLookups >= MAX_UNKNOWN_LOOKUPS) return null;
    const found = await findHandleByUpstreamId({ serverId: ctx.server.id, principalId: ctx.actor.id, sessionId: ctx.session.id, wire: ctx.wire, upstreamTaskId });
    if (!found) unknownLookups++;
    if (!known.has(upstreamTaskId) && known.size >= MAX_KNOWN_IDS) {
      const oldest = known.keys().next().value!;
      known.delete(oldest);
      unknownAt.delete(oldest);
    }
    known.set(upstreamTaskId, found?.token ?? null);
    if (found) {
      unknownAt.delete(upstreamTaskId);
      handleIds.set(upstreamTaskId, found.id);
      ttls.set(upstreamTaskId, found.effectiveTtlMs);
    } else {
      const waitMs = Math.min(UNKNOWN_RECHECK_MS.max, (unknownAt.get(upstreamTaskId)?.waitMs ?? UNKNOWN_RECHECK_MS.first / 2) * 2);
      unknownAt.set(upstreamTaskId, { at: performance.now(), waitMs });
    }
    return found?.token ?? null;
  };

  // The 2026-07-28 wire's status push carries the whole task (result or error inline): the
  // caller's own token in place of the upstream id, Tether's TTL in place of the upstream's.
  const translateExtNotification = async (message: TJson): Promise<TJson | null> => {
    const task = parseExtTaskNotification(message.params);
    const token = task ? await tokenFor(task.taskId) : null;
    if (!task || !token) return null;
    const handleId = handleIds.get(task.taskId);
    if (handleId) await requestEarlyPoll(handleId);
    const ttlMs = ttls.get(task.taskId);
    return { ...message, params: { ...(message.params as TJson), taskId: token, ...(ttlMs !== undefined ? { ttlMs } : {}) } };
  };

  // The acknowledgement of a `subscriptions/listen` names the upstream ids it agreed to watch.
  const translateAcknowledged = async (message: TJson): Promise<TJson> => {
    const params = isObject(message.params) ? message.params : {};
    const notifications = isObject(params.notifications) ? params.notifications : null;
    if (!notifications || !Array.isArray(notifications.taskIds)) return message;
    const tokens: string[] = [];
    for (const id of notifications.taskIds) {
      const token = typeof id === "string" ? await tokenFor(id) : null;
      if (token) tokens.push(token);
    }
    return { ...message, params: { ...params, notifications: { ...notifications, taskIds: tokens } } };
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
      const unminted = ungovernedTaskId(answered);
      // An id this exchange already maps to a token (the task call's own handle) is scrubbed on
      // the way out instead; anything else is a task nobody governs.
      if (unminted !== null && !known.get(unminted)) {
        // A task id that no handle stands for must never reach the agent: the task is cancelled
        // upstream and the agent is told why (e.g. a task answer to a method that creates none).
        known.set(unminted, null);
        await cancelUpstreamTask({ server: ctx.server, sessionId: ctx.session.upstreamSessionId, protocolVersion: ctx.session.protocolVersion }, unminted);
        log.warn({ requestId: ctx.actor.request.requestId, serverId: ctx.server.id, method: options.method }, "Upstream answered with a task Tether does not govern; cancelled it");
        return errorResponse(
          (answered.id as TJsonRpcId | undefined) ?? options.pendingId ?? null,
          RPC_ERROR.INTERNAL,
          "The upstream server answered with a task Tether could not govern (not on the task wire this call speaks); no handle was issued and the task was cancelled.",
        );
      }
      if (answered.method === "notifications/tasks") return translateExtNotification(answered);
      if (answered.method === "notifications/subscriptions/acknowledged") return translate(await translateAcknowledged(answered));
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

/**
 * The upstream task id an answer would hand the agent without a handle behind it, or null: a
 * `task` object or a flat task (`resultType: "task"`, or `taskId` with `status`) whose id is not
 * one of Tether's tokens. Answers the gateway rewrote already carry tokens.
 */
function ungovernedTaskId(message: TJson): string | null {
  const result = message.result;
  if (!isObject(result)) return null;
  const nested = isObject(result.task) ? result.task.taskId : undefined;
  const flat = result.resultType === "task" || ("taskId" in result && "status" in result) ? result.taskId : undefined;
  const id = typeof nested === "string" ? nested : typeof flat === "string" ? flat : null;
  return id !== null && !HANDLE_TOKEN_PATTERN.test(id) ? id : null;
}
