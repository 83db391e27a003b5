import "server-only";
import type { TGatewayContext } from "./create-exchange";
import { forwardToUpstream } from "./forward-to-upstream";
import { rpcError } from "./gateway-http";
import { RPC_ERROR, type TJsonRpcMessage } from "./jsonrpc";
import { relayTaskCall, type TTaskOperation } from "./relay-task-call";
import { relayToolCall } from "./relay-tool-call";
import { modernCallSession } from "./resolve-gateway-session";
import { translateListenRequest } from "./translate-listen-request";

const TASK_OPERATIONS = new Set<string>(["tasks/get", "tasks/update", "tasks/cancel"]);
// Core 2025-11-25 methods the extension removed: no cross-caller enumeration, results inline.
const REMOVED = new Set<string>(["tasks/list", "tasks/result"]);

/**
 * One message of the 2026-07-28 revision (no initialize, no sessions: every request carries its
 * own protocol version and capabilities). Task operations are checked and rewritten as on the
 * core wire, bound to principal, server, policy and the agent's credential instead of a session;
 * `tools/call` may mint a handle; everything else is relayed as it is, with Tether's credentials.
 */
export async function relayModernMessage(base: Omit<TGatewayContext, "session" | "wire">, message: TJsonRpcMessage, protocolVersion: string): Promise<Response> {
  const ctx: TGatewayContext = { ...base, wire: "ext_2026_07_28", session: modernCallSession(protocolVersion), downstreamSessionId: "" };
  if (message.kind === "request") {
    const rpc = message.message;
    if (TASK_OPERATIONS.has(rpc.method)) return relayTaskCall(ctx, null, rpc, rpc.method as TTaskOperation, protocolVersion);
    if (REMOVED.has(rpc.method)) return rpcError(rpc.id, RPC_ERROR.METHOD_NOT_FOUND, `Method not found: ${rpc.method} does not exist on the 2026-07-28 task wire.`);
    if (rpc.method === "tools/call") return relayToolCall(ctx, rpc);
    if (rpc.method === "subscriptions/listen") {
      const translated = await translateListenRequest(ctx, rpc);
      return forwardToUpstream(ctx, translated.message, { method: rpc.method, pendingId: rpc.id, known: translated.known, ttls: translated.ttls });
    }
    return forwardToUpstream(ctx, rpc, { method: rpc.method, pendingId: rpc.id });
  }
  // A task operation sent as a notification names a token without asking anything: never forwarded.
  if (message.kind === "notification" && message.message.method.startsWith("tasks/")) return new Response(null, { status: 202 });
  return forwardToUpstream(ctx, message.message, { method: message.kind === "notification" ? message.message.method : "response", pendingId: null });
}
