import "server-only";
import { getEnv } from "@/lib/env";
import { createExchange, type TGatewayContext } from "./create-exchange";
import { endGatewaySession } from "./end-gateway-session";
import { rpcError } from "./gateway-http";
import { GatewayResponse } from "./gateway-response";
import { RPC_ERROR, type TJsonRpcId } from "./jsonrpc";
import { recordUpstreamError } from "./record-upstream-error";
import { relayUpstreamReply } from "./relay-upstream-answer";
import { sessionNotFound } from "./resolve-gateway-session";
import { UpstreamError } from "./upstream";
import { sendUpstream, type TUpstreamReply } from "./upstream-http";

type TJson = Record<string, unknown>;

export type TForwardOptions = {
  method: string;
  pendingId: TJsonRpcId | null;
  onAnswer?: (message: TJson) => Promise<TJson>;
  /** Called instead of a plain error when the upstream cannot be reached or fails (cancel records its outcome). */
  onUnreachable?: () => Promise<void>;
  known?: Map<string, string | null>;
  ttls?: Map<string, number>;
  accessor?: string | null;
  /** null: no gateway timeout (tasks/result blocks until the task ends; bounded by the caller's signal). */
  timeoutMs?: number | null;
};

/**
 * Sends one message upstream on the caller's own upstream session, with the server's
 * credentials, and relays the answer back through the exchange. Upstream failures become a
 * clear JSON-RPC error for a request (or a 502 for a notification) and an audit event; an
 * upstream that forgot the session ends the gateway session too (its tasks went with it).
 */
export async function forwardToUpstream(ctx: TGatewayContext, message: TJson, options: TForwardOptions): Promise<Response> {
  const id = options.pendingId;
  const fail = async (detail: string, agentMessage: string, err?: unknown) => {
    await recordUpstreamError({ actor: ctx.actor, serverId: ctx.server.id, method: options.method, detail, accessor: options.accessor ?? null, err });
    await options.onUnreachable?.();
    return id === null ? new GatewayResponse({ kind: "empty" }, { status: 502, headers: {} }) : rpcError(id, RPC_ERROR.UPSTREAM_UNAVAILABLE, agentMessage);
  };
  let upstream: TUpstreamReply;
  try {
    // Node's HTTP client (upstream-http.ts): the agent's request signal ends the exchange when
    // the agent goes away; closing the relayed answer's source ends it too.
    upstream = await sendUpstream(
      { server: ctx.server, sessionId: ctx.session.upstreamSessionId, protocolVersion: ctx.session.protocolVersion, signal: ctx.signal },
      {
        method: "POST",
        accept: "application/json, text/event-stream",
        message,
        timeoutMs: options.timeoutMs === undefined ? getEnv().TETHER_GATEWAY_UPSTREAM_TIMEOUT_MS : options.timeoutMs,
      },
    );
  } catch (err) {
    const text = err instanceof UpstreamError ? err.message : "The upstream server failed.";
    return fail(text, text, err);
  }
  if (upstream.status === 404 && ctx.session.upstreamSessionId && ctx.session.id) {
    upstream.close();
    await endGatewaySession({ actor: ctx.actor, sessionId: ctx.session.id, serverId: ctx.server.id, cause: "upstream_session_lost" });
    throw sessionNotFound();
  }
  if (upstream.status === 401 || upstream.status === 403) {
    upstream.close();
    return fail(`HTTP ${upstream.status}`, "The upstream server refused Tether's credentials for it; an administrator must update the server's credentials.");
  }
  if (upstream.status >= 500 || (upstream.status >= 300 && upstream.status < 400)) {
    upstream.close();
    return fail(`HTTP ${upstream.status}`, `The upstream server failed (HTTP ${upstream.status}).`);
  }
  return relayUpstreamReply(upstream, createExchange(ctx, { method: options.method, pendingId: id, ...pick(options) }));
}

function pick(options: TForwardOptions) {
  return {
    ...(options.onAnswer ? { onAnswer: options.onAnswer } : {}),
    ...(options.known ? { known: options.known } : {}),
    ...(options.ttls ? { ttls: options.ttls } : {}),
    ...(options.accessor !== undefined ? { accessor: options.accessor } : {}),
  };
}
