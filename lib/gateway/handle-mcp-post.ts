import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { requestMetaFrom } from "@/lib/http/request-meta";
import { methodLabel, metrics } from "@/lib/metrics/registry";
import type { Prisma } from "@/lib/db/generated/client";
import { authenticateGatewayCall } from "./authenticate-gateway-call";
import type { TGatewayRequest } from "./buffered-request";
import { authorizeHandleUse } from "./authorize-handle-use";
import { consumeTaskRateLimit } from "./consume-task-rate-limit";
import type { TGatewayContext } from "./create-exchange";
import { forwardToUpstream } from "./forward-to-upstream";
import {
  SESSION_HEADER,
  assertPostHeaders,
  gatewayErrorResponse,
  jsonRpcHttpResponse,
  parseJsonBody,
  readBodyWithLimit,
  rpcError,
} from "./gateway-http";
import { GatewayHttpError, RPC_ERROR, classifyMessage, describeInvalidMessage, taskNotFound, type TJsonRpcRequest } from "./jsonrpc";
import { InvalidCursorError, ListNotAllowedError, listAgentTasks } from "./list-agent-tasks";
import { relayTaskCall, refuseIfRateLimited, type TTaskOperation } from "./relay-task-call";
import { relayModernMessage } from "./relay-modern-message";
import { relayToolCall } from "./relay-tool-call";
import { resolveGatewaySession } from "./resolve-gateway-session";
import { relatedTaskId, withRelatedTaskId } from "./rewrite-task-ids";
import { startGatewaySession } from "./start-gateway-session";
import { modernVersionOf } from "./task-wire";
import { deleteUpstreamSession, postUpstream, readUpstreamEvents, upstreamUnavailable, type TUpstreamServer } from "./upstream";

const TASK_OPERATIONS = new Set<string>(["tasks/get", "tasks/result", "tasks/cancel", "tasks/update"]);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** POST /mcp/{server}: one JSON-RPC message from an agent. */
export async function handleMcpPost(request: TGatewayRequest, slug: string): Promise<Response> {
  const meta = requestMetaFrom(request.headers);
  try {
    const { actor, server } = await authenticateGatewayCall(request, slug, meta);
    assertPostHeaders(request);
    const value = parseJsonBody(await readBodyWithLimit(request));
    const message = classifyMessage(value);
    if (!message) throw new GatewayHttpError(400, RPC_ERROR.INVALID_REQUEST, `Invalid Request: ${describeInvalidMessage(value)}`);
    metrics().gatewayRequests.inc({ method: message.kind === "request" || message.kind === "notification" ? methodLabel(message.message.method) : "response" });

    if (message.kind === "request" && message.message.method === "initialize") {
      if (request.headers.get(SESSION_HEADER)) throw new GatewayHttpError(400, RPC_ERROR.INVALID_REQUEST, "Invalid Request: initialize must not carry an Mcp-Session-Id.");
      return await initialize(actor, server, message.message, request.signal);
    }
    const sessionHeader = request.headers.get(SESSION_HEADER);
    // The 2026-07-28 revision has no sessions: a request that claims it is relayed as such.
    const modernVersion = sessionHeader ? null : modernVersionOf(message.message, request.headers.get("mcp-protocol-version"));
    if (modernVersion) return await relayModernMessage({ actor, server, downstreamSessionId: "", signal: request.signal }, message, modernVersion);
    const base = { actor, server, downstreamSessionId: sessionHeader?.trim() ?? "", signal: request.signal, wire: "core_2025_11_25" as const };
    // Task operations resolve their session together with the handle, in one statement.
    if (message.kind === "request" && TASK_OPERATIONS.has(message.message.method)) {
      return await relayTaskCall(base, sessionHeader, message.message, message.message.method as TTaskOperation);
    }
    const session = await resolveGatewaySession({ actor, server, sessionHeader });
    const ctx: TGatewayContext & { session: { id: string } } = { ...base, session };

    if (message.kind === "request") {
      const rpc = message.message;
      if (rpc.method === "tasks/list") return await answerTasksList(ctx, rpc);
      const checked = await translateRelatedTask(ctx, rpc);
      if (!checked) return jsonRpcHttpResponse(taskNotFound(rpc.id));
      if (rpc.method === "tools/call") return await relayToolCall(ctx, checked as TJsonRpcRequest);
      return await forwardToUpstream(ctx, checked, { method: rpc.method, pendingId: rpc.id });
    }
    // Notifications and the agent's answers to upstream requests (elicitation, sampling). A task
    // operation sent as a notification names a token without asking anything: never forwarded.
    if (message.kind === "notification" && message.message.method.startsWith("tasks/")) return new Response(null, { status: 202 });
    const checked = await translateRelatedTask(ctx, message.message);
    if (!checked) return new Response(null, { status: 202 });
    return await forwardToUpstream(ctx, checked, { method: message.kind === "notification" ? message.message.method : "response", pendingId: null });
  } catch (err) {
    return gatewayErrorResponse(err, meta.requestId);
  }
}

/**
 * A message from the agent that names a task in its related-task metadata (an answer to an
 * elicitation that belongs to a task) names it by token; it must be one the agent may use,
 * and goes upstream with the upstream id. Null when it is not.
 */
async function translateRelatedTask(ctx: TGatewayContext, message: Record<string, unknown>): Promise<Record<string, unknown> | null> {
  const token = relatedTaskId(message);
  if (token === undefined) return message;
  // Naming a task counts against the task-operation budget like any task call; over it, nothing
  // is looked up (or audited), the message is refused as naming no task.
  if ((await consumeTaskRateLimit({ actor: ctx.actor, serverId: ctx.server.id, operation: "related-task" })) !== null) return null;
  const handle = await authorizeHandleUse({ actor: ctx.actor, serverId: ctx.server.id, sessionId: ctx.session.id, wire: ctx.wire, token, operation: "related-task" });
  return handle ? withRelatedTaskId(message, handle.upstreamTaskId) : null;
}

async function answerTasksList(ctx: TGatewayContext & { session: { id: string } }, rpc: TJsonRpcRequest): Promise<Response> {
  const limited = await refuseIfRateLimited(ctx, rpc, "tasks/list");
  if (limited) return limited;
  try {
    const cursor: unknown = rpc.params?.cursor;
    const result = await listAgentTasks({ actor: ctx.actor, serverId: ctx.server.id, sessionId: ctx.session.id, cursor });
    return jsonRpcHttpResponse({ jsonrpc: "2.0", id: rpc.id, result });
  } catch (err) {
    if (err instanceof InvalidCursorError) return rpcError(rpc.id, RPC_ERROR.INVALID_PARAMS, "Invalid cursor");
    if (err instanceof ListNotAllowedError) return rpcError(rpc.id, RPC_ERROR.METHOD_NOT_FOUND, "Method not found: tasks/list is not allowed by Tether's handle policy.");
    throw err;
  }
}

/**
 * initialize opens a new upstream session for this agent alone (never shared across principals)
 * and a gateway session the agent names by a fresh id of Tether's.
 */
async function initialize(actor: TActor, server: TUpstreamServer, rpc: TJsonRpcRequest, signal: AbortSignal): Promise<Response> {
  let upstream: Response;
  let answer: Record<string, unknown> | null = null;
  let refusal: Record<string, unknown> | null = null;
  try {
    upstream = await postUpstream({ server, sessionId: null, protocolVersion: null, signal }, rpc);
    if (upstream.status >= 500 || upstream.status === 401 || upstream.status === 403) {
      await upstream.body?.cancel();
      throw new GatewayHttpError(502, RPC_ERROR.UPSTREAM_UNAVAILABLE, `The upstream server refused to start a session (HTTP ${upstream.status}).`);
    }
    for await (const event of readUpstreamEvents(upstream)) {
      const parsed: unknown = JSON.parse(event.data);
      if (isObject(parsed) && parsed.id === rpc.id && !("method" in parsed)) answer = parsed;
      else if (isObject(parsed) && parsed.id === null && isObject(parsed.error)) refusal = parsed;
    }
  } catch (err) {
    if (err instanceof GatewayHttpError) throw err;
    throw upstreamUnavailable(err);
  }
  // An upstream refusing the message itself (the SDK transport answers an invalid initialize with
  // 400 and `id: null`) refused the agent's request; that is the agent's error to see, not a 502.
  if (!answer && refusal && upstream.status >= 400 && upstream.status < 500) {
    const error = refusal.error as Record<string, unknown>;
    const message = typeof error.message === "string" ? error.message.slice(0, 500) : "Invalid Request";
    return rpcError(rpc.id, Number.isInteger(error.code) ? (error.code as number) : RPC_ERROR.INVALID_REQUEST, `The upstream server refused initialize: ${message}`);
  }
  if (!answer) throw new GatewayHttpError(502, RPC_ERROR.UPSTREAM_UNAVAILABLE, "The upstream server did not answer initialize.");
  if (!isObject(answer.result)) return jsonRpcHttpResponse(answer, upstream.status >= 400 ? upstream.status : 200);
  const clientInfo = isObject(rpc.params?.clientInfo) ? (rpc.params.clientInfo as Prisma.InputJsonValue) : null;
  const upstreamSessionId = upstream.headers.get(SESSION_HEADER);
  const protocolVersion = typeof answer.result.protocolVersion === "string" ? answer.result.protocolVersion.slice(0, 32) : null;
  let downstreamSessionId: string;
  try {
    ({ downstreamSessionId } = await startGatewaySession({ actor, server, upstreamSessionId, protocolVersion, clientInfo }));
  } catch (err) {
    // Not recorded, so nobody could ever use or end it: close the upstream session now.
    await deleteUpstreamSession({ server, sessionId: upstreamSessionId, protocolVersion });
    throw err;
  }
  return jsonRpcHttpResponse(answer, 200, { [SESSION_HEADER]: downstreamSessionId });
}
