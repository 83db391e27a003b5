import "server-only";
import { randomUUID } from "node:crypto";
import { isModernProtocolVersion, withModernEnvelope } from "./task-wire";
import { UpstreamError, type TUpstreamCall } from "./upstream";
import { readReplyEvents, sendUpstream } from "./upstream-http";

export type TUpstreamAnswer = { result: Record<string, unknown> } | { error: { code: number; message: string } };

/**
 * One request of Tether's own to an upstream (not an agent's, so nothing is relayed): sends it on
 * the given upstream session and returns the answer, JSON or SSE alike. Throws UpstreamError when
 * the upstream cannot be reached, fails, or does not answer.
 */
export async function requestUpstream(call: TUpstreamCall, method: string, params: Record<string, unknown>, timeoutMs = 5_000): Promise<TUpstreamAnswer> {
  const id = `tether-${randomUUID()}`;
  // On the 2026-07-28 wire every request carries Tether's own envelope (version, client, opt-in).
  const framed = isModernProtocolVersion(call.protocolVersion) ? withModernEnvelope(params, call.protocolVersion) : params;
  // Node's HTTP client, like the relay (upstream-http.ts): the status-sync worker and cancels call this for every live handle.
  const response = await sendUpstream(call, { method: "POST", accept: "application/json, text/event-stream", message: { jsonrpc: "2.0", id, method, params: framed }, timeoutMs });
  if (response.status >= 500 || response.status === 401 || response.status === 403 || response.status === 404) {
    response.close();
    throw new UpstreamError(`The upstream server answered HTTP ${response.status}.`, undefined, response.status);
  }
  for await (const event of readReplyEvents(response)) {
    let message: { id?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown } };
    try {
      message = JSON.parse(event.data) as typeof message;
    } catch {
      continue;
    }
    if (message?.id !== id) continue;
    if (typeof message.result === "object" && message.result !== null) return { result: message.result as Record<string, unknown> };
    const code = typeof message.error?.code === "number" ? message.error.code : -32603;
    return { error: { code, message: typeof message.error?.message === "string" ? message.error.message : "" } };
  }
  throw new UpstreamError("The upstream server did not answer.");
}
