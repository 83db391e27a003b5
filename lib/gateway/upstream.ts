import "server-only";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { getEnv } from "@/lib/env";
import { fetchWithUpstreamAuth, upstreamAuthOf, UpstreamAuthError } from "@/lib/servers/upstream-auth";
import { GatewayHttpError, RPC_ERROR } from "./jsonrpc";
import { isModernProtocolVersion, modernRoutingHeaders } from "./task-wire";

// The gateway's HTTP client for one upstream MCP server (Streamable HTTP). Tether authenticates
// with the server's own configured credentials: the agent's credentials are never passed on.

export type TUpstreamServer = { id: string; slug: string; url: string; audience: string; credentialsEnc: string | null };

export type TUpstreamCall = {
  server: TUpstreamServer;
  /** The upstream Mcp-Session-Id (decrypted), when the upstream is stateful. */
  sessionId: string | null;
  protocolVersion: string | null;
  signal?: AbortSignal;
};

export class UpstreamError extends Error {
  constructor(
    message: string,
    cause?: unknown,
    readonly status?: number,
  ) {
    super(message, { cause });
    this.name = "UpstreamError";
  }
}

/** Context the credentials envelope is bound to (AES-GCM associated data). */
export { serverCredentialsContext } from "@/lib/servers/server-credentials";

// The Authorization header is added by send(): lib/servers/upstream-auth.ts computes it (bearer
// token, or an OAuth access token it fetches, caches and refreshes on a 401).
function upstreamHeaders(call: TUpstreamCall, accept: string): Headers {
  const headers = new Headers({ accept });
  if (call.sessionId) headers.set("mcp-session-id", call.sessionId);
  if (call.protocolVersion) headers.set("mcp-protocol-version", call.protocolVersion);
  return headers;
}

function timeoutSignal(call: TUpstreamCall, timeoutMs: number | null): AbortSignal | undefined {
  const signals = [call.signal, timeoutMs === null ? undefined : AbortSignal.timeout(timeoutMs)].filter((s): s is AbortSignal => s !== undefined);
  return signals.length === 0 ? undefined : AbortSignal.any(signals);
}

async function send(call: TUpstreamCall, init: RequestInit & { headers: Headers; timeoutMs: number | null }): Promise<Response> {
  const signal = timeoutSignal(call, init.timeoutMs);
  try {
    return await fetchWithUpstreamAuth(upstreamAuthOf(call.server), (authorization) => {
      if (authorization) init.headers.set("authorization", authorization);
      return fetch(call.server.url, { ...init, ...(signal ? { signal } : {}), redirect: "manual" });
    });
  } catch (err) {
    if (err instanceof UpstreamAuthError) throw new UpstreamError(`Tether could not authenticate at the upstream server: ${err.message}`, err);
    throw new UpstreamError(err instanceof Error && err.name === "TimeoutError" ? "The upstream server did not answer in time." : "The upstream server is unreachable.", err);
  }
}

/** POSTs one JSON-RPC message. `timeoutMs` null waits as long as the caller's signal allows (tasks/result blocks). */
export async function postUpstream(call: TUpstreamCall, body: unknown, timeoutMs: number | null = getEnv().TETHER_GATEWAY_UPSTREAM_TIMEOUT_MS): Promise<Response> {
  const headers = upstreamHeaders(call, "application/json, text/event-stream");
  headers.set("content-type", "application/json");
  // 2026-07-28 (no sessions): the routing headers mirror the body as it goes, rewritten ids included.
  if (isModernProtocolVersion(call.protocolVersion)) for (const [name, value] of Object.entries(modernRoutingHeaders(body))) headers.set(name, value);
  return send(call, { method: "POST", headers, body: JSON.stringify(body), timeoutMs });
}

/**
 * A server-to-client stream lasts at most this long; the client reconnects (Last-Event-ID), and the
 * reconnection is authenticated again, so a disabled agent or a revoked key loses it soon after.
 */
export const STREAM_MAX_MS = 5 * 60_000;

/** Opens the upstream's server-to-client SSE stream for the session. */
export async function openUpstreamStream(call: TUpstreamCall, lastEventId: string | null): Promise<Response> {
  const headers = upstreamHeaders(call, "text/event-stream");
  if (lastEventId) headers.set("last-event-id", lastEventId);
  return send(call, { method: "GET", headers, timeoutMs: STREAM_MAX_MS });
}

/** Ends the upstream session; best effort (an upstream that is gone has ended it anyway). */
export async function deleteUpstreamSession(call: TUpstreamCall): Promise<void> {
  if (!call.sessionId) return;
  try {
    const response = await send(call, { method: "DELETE", headers: upstreamHeaders(call, "application/json"), timeoutMs: 5_000 });
    await response.body?.cancel();
  } catch {
    /* already gone or unreachable: the session is ended on Tether's side regardless */
  }
}

/**
 * The largest single message Tether reads from an upstream (a JSON body in bytes, one SSE event
 * in characters). An upstream is not trusted to be small: beyond this the answer is refused, not
 * buffered.
 */
export const MAX_UPSTREAM_MESSAGE_BYTES = 16 * 1024 * 1024;

function tooLarge(): UpstreamError {
  return new UpstreamError("The upstream server sent a message larger than Tether accepts.");
}

async function readTextWithLimit(body: ReadableStream<Uint8Array>): Promise<string> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_UPSTREAM_MESSAGE_BYTES) throw tooLarge();
      chunks.push(value);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Fails the stream when one SSE event (text up to a blank line) grows beyond the limit. */
function limitEventSize(): TransformStream<string, string> {
  let pending = 0;
  return new TransformStream({
    transform(chunk, controller) {
      const end = Math.max(chunk.lastIndexOf("\n\n"), chunk.lastIndexOf("\r\n\r\n"), chunk.lastIndexOf("\r\r"));
      pending = end === -1 ? pending + chunk.length : chunk.length - end;
      if (pending > MAX_UPSTREAM_MESSAGE_BYTES) throw tooLarge();
      controller.enqueue(chunk);
    },
  });
}

export type TUpstreamEvent = { data: string; id?: string | undefined; event?: string | undefined };

/**
 * The JSON-RPC messages of an upstream answer, whichever way it came: one JSON body, or an SSE
 * stream of `message` events. An empty 202 yields nothing.
 */
export async function* readUpstreamEvents(response: Response): AsyncGenerator<TUpstreamEvent> {
  if (!response.body || response.status === 202 || response.status === 204) {
    await response.body?.cancel();
    return;
  }
  const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/json") {
    yield { data: await readTextWithLimit(response.body) };
    return;
  }
  if (type !== "text/event-stream") {
    await response.body.cancel();
    throw new UpstreamError(`The upstream server answered with an unexpected content type (${type || "none"}).`, undefined, response.status);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(limitEventSize()).pipeThrough(new EventSourceParserStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value.event && value.event !== "message") continue;
      if (value.data === "") continue; // a priming event (resumption id only)
      yield { data: value.data, id: value.id, event: value.event };
    }
  } finally {
    // Cancelling the reader cancels the whole pipe, closing the upstream connection.
    await reader.cancel().catch(() => undefined);
  }
}

/** Maps an upstream failure to what the agent is told, without upstream details that could carry secrets. */
export function upstreamUnavailable(err: unknown): GatewayHttpError {
  const message = err instanceof UpstreamError ? err.message : "The upstream server failed.";
  return new GatewayHttpError(502, RPC_ERROR.UPSTREAM_UNAVAILABLE, message);
}
