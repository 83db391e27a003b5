import "server-only";
import { log } from "@/lib/log";
import { SESSION_HEADER, jsonRpcHttpResponse } from "./gateway-http";
import { GatewayResponse, type TBodySource } from "./gateway-response";
import { RPC_ERROR, errorResponse, type TJsonRpcId } from "./jsonrpc";
import { UpstreamError, readUpstreamEvents } from "./upstream";
import { UpstreamEventReader, readReplyText, type TUpstreamReply } from "./upstream-http";

type TJson = Record<string, unknown>;

/** How one exchange treats the upstream's messages on their way to the agent. */
export type TExchange = {
  /** Rewrites one upstream message; null drops it. */
  transform(message: TJson): Promise<TJson | null>;
  /** Serialises a message for the agent (scrubbing any upstream id left in it). */
  serialize(message: TJson): string;
  /** The downstream request waiting for its answer, if the message was a request. */
  pendingId: TJsonRpcId | null;
  /** Called once when the upstream fails to answer a pending request (audit). */
  onFailure(detail: string, err?: unknown): Promise<void>;
  downstreamSessionId: string | null;
};

const encoder = new TextEncoder();
const isObject = (v: unknown): v is TJson => typeof v === "object" && v !== null && !Array.isArray(v);

function parseUpstreamMessage(data: string): TJson | null {
  try {
    const value: unknown = JSON.parse(data);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

function failureFor(exchange: TExchange, message: string): TJson | null {
  return exchange.pendingId === null ? null : errorResponse(exchange.pendingId, RPC_ERROR.UPSTREAM_UNAVAILABLE, message);
}

/**
 * Turns the upstream's answer into the agent's, in the same form (one JSON body, or an SSE
 * stream), passing every message through the exchange's transform. If the upstream ends or
 * fails before answering the pending request, the agent still gets a JSON-RPC error for it.
 */
export async function relayUpstreamAnswer(upstream: Response, exchange: TExchange, abortUpstream?: () => void): Promise<Response> {
  const sessionHeaders: Record<string, string> = exchange.downstreamSessionId ? { [SESSION_HEADER]: exchange.downstreamSessionId } : {};
  if (upstream.status === 202 || upstream.status === 204) {
    await upstream.body?.cancel();
    return new Response(null, { status: 202, headers: sessionHeaders });
  }
  const type = (upstream.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "text/event-stream") {
    let message: TJson | null = null;
    try {
      for await (const event of readUpstreamEvents(upstream)) message = parseUpstreamMessage(event.data);
    } catch (err) {
      await exchange.onFailure(err instanceof UpstreamError ? err.message : "unreadable answer", err);
      const failure = failureFor(exchange, "The upstream server sent an answer Tether could not read.");
      return failure ? jsonRpcHttpResponse(failure, 200, sessionHeaders) : new Response(null, { status: 502 });
    }
    const rewritten = message ? await exchange.transform(message) : null;
    if (!rewritten) {
      await exchange.onFailure(message ? "answer dropped" : "not a JSON-RPC message");
      const failure = failureFor(exchange, "The upstream server sent an answer that is not valid JSON-RPC.");
      return failure ? jsonRpcHttpResponse(failure, 200, sessionHeaders) : new Response(null, { status: 202, headers: sessionHeaders });
    }
    return new Response(exchange.serialize(rewritten), {
      status: upstream.status >= 400 && upstream.status < 500 ? upstream.status : 200,
      headers: { "content-type": "application/json", "cache-control": "no-store", ...sessionHeaders },
    });
  }

  const events = readUpstreamEvents(upstream);
  let answered = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const emit = (message: TJson, id?: string) => {
        if (exchange.pendingId !== null && message.id === exchange.pendingId && !("method" in message)) answered = true;
        controller.enqueue(encoder.encode(`event: message\n${id ? `id: ${id.replace(/[\r\n]/g, "")}\n` : ""}data: ${exchange.serialize(message)}\n\n`));
      };
      // Loop until something is enqueued or the stream ends: a pull that enqueues nothing is not
      // called again, and a dropped message would otherwise stall the agent's stream.
      try {
        for (;;) {
          const next = await events.next();
          if (next.done) {
            if (!answered) {
              const failure = failureFor(exchange, "The upstream server closed the stream before answering.");
              if (failure) {
                await exchange.onFailure("stream closed before the answer");
                emit(failure);
              }
            }
            controller.close();
            return;
          }
          const message = parseUpstreamMessage(next.value.data);
          if (!message) {
            log.warn({ event: "upstream-garbage" }, "Dropped an upstream SSE event that is not a JSON-RPC message");
            continue;
          }
          const rewritten = await exchange.transform(message);
          if (rewritten) {
            emit(rewritten, next.value.id);
            return;
          }
        }
      } catch (err) {
        // A dropped server-to-client stream (no pending request) is routine: the client reconnects.
        const failure = answered ? null : failureFor(exchange, "The upstream server failed while answering.");
        if (failure) {
          await exchange.onFailure(err instanceof UpstreamError ? err.message : "stream failed", err);
          emit(failure);
        }
        controller.close();
      }
    },
    async cancel() {
      // The agent went away. A pending read of the upstream stream only settles when the upstream
      // sends again, so abort the upstream request itself rather than wait for it.
      abortUpstream?.();
      await events.return(undefined).catch(() => undefined);
    },
  });
  return new Response(stream, {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache, no-store", connection: "keep-alive", ...sessionHeaders },
  });
}

const sseEvent = (data: string, id?: string) => `event: message\n${id ? `id: ${id.replace(/[\r\n]/g, "")}\n` : ""}data: ${data}\n\n`;

/**
 * relayUpstreamAnswer for an answer read with Node's HTTP client (upstream-http.ts), the relay's
 * hot path: the same answers, statuses, headers and failure handling, as a GatewayResponse whose
 * body is a string or a pull source (Node's server writes it without web streams). Closing the
 * answer's source (the agent went away) closes the upstream exchange.
 */
export async function relayUpstreamReply(reply: TUpstreamReply, exchange: TExchange): Promise<Response> {
  const sessionHeaders: Record<string, string> = exchange.downstreamSessionId ? { [SESSION_HEADER]: exchange.downstreamSessionId } : {};
  if (reply.status === 202 || reply.status === 204) {
    reply.close();
    return new GatewayResponse({ kind: "empty" }, { status: 202, headers: sessionHeaders });
  }
  if (reply.type !== "text/event-stream") {
    let message: TJson | null;
    try {
      if (reply.type !== "application/json") {
        reply.close();
        throw new UpstreamError(`The upstream server answered with an unexpected content type (${reply.type || "none"}).`, undefined, reply.status);
      }
      message = parseUpstreamMessage(await readReplyText(reply));
    } catch (err) {
      await exchange.onFailure(err instanceof UpstreamError ? err.message : "unreadable answer", err);
      const failure = failureFor(exchange, "The upstream server sent an answer Tether could not read.");
      return failure ? jsonRpcHttpResponse(failure, 200, sessionHeaders) : new GatewayResponse({ kind: "empty" }, { status: 502, headers: {} });
    }
    const rewritten = message ? await exchange.transform(message) : null;
    if (!rewritten) {
      await exchange.onFailure(message ? "answer dropped" : "not a JSON-RPC message");
      const failure = failureFor(exchange, "The upstream server sent an answer that is not valid JSON-RPC.");
      return failure ? jsonRpcHttpResponse(failure, 200, sessionHeaders) : new GatewayResponse({ kind: "empty" }, { status: 202, headers: sessionHeaders });
    }
    return new GatewayResponse(
      { kind: "text", text: exchange.serialize(rewritten) },
      { status: reply.status >= 400 && reply.status < 500 ? reply.status : 200, headers: { "content-type": "application/json", "cache-control": "no-store", ...sessionHeaders } },
    );
  }

  const events = new UpstreamEventReader(reply);
  let answered = false;
  let finished = false;
  const emit = (message: TJson, id?: string): string => {
    if (exchange.pendingId !== null && message.id === exchange.pendingId && !("method" in message)) answered = true;
    return sseEvent(exchange.serialize(message), id);
  };
  // Ends the agent's stream; a pending request not answered yet gets its JSON-RPC error first.
  const finish = async (detail: string, agentMessage: string, err?: unknown): Promise<string | null> => {
    finished = true;
    events.close();
    const failure = answered ? null : failureFor(exchange, agentMessage);
    if (!failure) return null;
    await exchange.onFailure(detail, err);
    return emit(failure);
  };
  const source: TBodySource = {
    async next() {
      if (finished) return null;
      if (answered && exchange.pendingId !== null) {
        // The answer is out, and with it the stream's purpose (Streamable HTTP: the server SHOULD
        // close it after the response). The agent's answer ends now, in the same write as the
        // answer; the rest of the upstream's stream is read and dropped, so that its connection
        // goes back to the pool instead of being cut.
        finished = true;
        events.drain();
        return null;
      }
      try {
        for (;;) {
          const event = await events.next();
          if (!event) return await finish("stream closed before the answer", "The upstream server closed the stream before answering.");
          const message = parseUpstreamMessage(event.data);
          if (!message) {
            log.warn({ event: "upstream-garbage" }, "Dropped an upstream SSE event that is not a JSON-RPC message");
            continue;
          }
          const rewritten = await exchange.transform(message);
          if (rewritten) return emit(rewritten, event.id);
        }
      } catch (err) {
        // A dropped server-to-client stream (no pending request) is routine: the client reconnects.
        if (finished) return null;
        return finish(err instanceof UpstreamError ? err.message : "stream failed", "The upstream server failed while answering.", err);
      }
    },
    cancel() {
      // The agent went away: close the upstream exchange rather than wait for it to send again.
      finished = true;
      events.close();
    },
  };
  return new GatewayResponse(
    { kind: "stream", source },
    { status: 200, headers: { "content-type": "text/event-stream", "cache-control": "no-cache, no-store", connection: "keep-alive", ...sessionHeaders } },
  );
}
