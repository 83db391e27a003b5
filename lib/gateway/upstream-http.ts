import "server-only";
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import { createParser } from "eventsource-parser";
import { fetchWithUpstreamAuth, getUpstreamAuthorizationFor, upstreamAuthOf, UpstreamAuthError, type TUpstreamAuth } from "@/lib/servers/upstream-auth";
import { isModernProtocolVersion, modernRoutingHeaders } from "./task-wire";
import { MAX_UPSTREAM_MESSAGE_BYTES, UpstreamError, type TUpstreamCall, type TUpstreamEvent } from "./upstream";

// The gateway's hot path to an upstream: Node's own HTTP client with one keep-alive agent per
// upstream origin, plain strings and Buffers, no fetch and no web streams. A relayed tasks/get is
// the request Tether makes most, and undici's Request/Response/Headers objects, AbortSignal.any
// and the TextDecoderStream → EventSourceParserStream pipe cost several times what the upstream
// itself spends answering it. Same wire as upstream.ts's fetch-based `postUpstream` (which
// initialize still uses): same headers, the server's
// credentials (an OAuth token refused with 401 is refreshed and the call made once more), the
// same limits, and the same UpstreamError messages.

/** One upstream answer: status and headers read, the body not yet. */
export type TUpstreamReply = {
  status: number;
  headers: IncomingHttpHeaders;
  /** The media type, lower case, without parameters ("" when absent). */
  type: string;
  /** The body, decoded when the upstream compressed it anyway. */
  body: Readable;
  /** Why the exchange was ended by Tether (timeout, caller gone), for the reader to report. */
  failure(): UpstreamError | null;
  /** Ends the exchange: a body not read to its end is discarded with its connection. */
  close(): void;
};

export type TUpstreamSend = {
  method: "POST" | "GET" | "DELETE";
  accept: string;
  /** A JSON-RPC message (POST). */
  message?: unknown;
  lastEventId?: string | null;
  /** Covers the whole exchange, body included; null: only the caller's signal ends it. */
  timeoutMs: number | null;
};

type TTarget = { secure: boolean; agent: http.Agent; hostname: string; port: number; path: string };

const agents = new Map<string, http.Agent>();
const targets = new Map<string, TTarget | UpstreamError>();
const MAX_TARGETS = 1_000;

function targetOf(url: string): TTarget {
  let target = targets.get(url);
  if (target === undefined) {
    target = parseTarget(url);
    if (targets.size >= MAX_TARGETS) targets.clear();
    targets.set(url, target);
  }
  if (target instanceof UpstreamError) throw target;
  return target;
}

function parseTarget(url: string): TTarget | UpstreamError {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    return new UpstreamError("The upstream server is unreachable.", err);
  }
  const secure = parsed.protocol === "https:";
  // fetch refuses these too: credentials belong in the server's stored credentials, not its URL.
  if ((!secure && parsed.protocol !== "http:") || parsed.username || parsed.password) return new UpstreamError("The upstream server is unreachable.");
  let agent = agents.get(parsed.origin);
  if (!agent) {
    // LIFO keeps the busy sockets warm and lets the rest reach the idle timeout; free sockets are
    // dropped after 4 s, before a Node upstream's default 5 s keep-alive timeout closes them.
    const options = { keepAlive: true, scheduling: "lifo" as const, timeout: 4_000 };
    agent = secure ? new https.Agent(options) : new http.Agent(options);
    agents.set(parsed.origin, agent);
  }
  const hostname = parsed.hostname.startsWith("[") ? parsed.hostname.slice(1, -1) : parsed.hostname;
  return { secure, agent, hostname, port: parsed.port ? Number(parsed.port) : secure ? 443 : 80, path: `${parsed.pathname}${parsed.search}` };
}

const mediaType = (value: string | undefined) => (value ? value.split(";")[0]!.trim().toLowerCase() : "");

/** Sends one HTTP request to the upstream with the server's credentials; resolves once the status and headers are in. */
export async function sendUpstream(call: TUpstreamCall, init: TUpstreamSend): Promise<TUpstreamReply> {
  const body = init.message === undefined ? undefined : JSON.stringify(init.message);
  // 2026-07-28 (no sessions): the routing headers mirror the body as it goes, rewritten ids included.
  const routing = init.message !== undefined && isModernProtocolVersion(call.protocolVersion) ? modernRoutingHeaders(init.message) : null;
  const wire = { ...init, body, routing };
  try {
    const auth = upstreamAuthOf(call.server);
    if (auth.credentials?.type !== "oauth_client_credentials") return await exchange(call, wire, await getUpstreamAuthorizationFor(auth));
    return await sendWithOAuth(call, wire, auth);
  } catch (err) {
    if (err instanceof UpstreamAuthError) throw new UpstreamError(`Tether could not authenticate at the upstream server: ${err.message}`, err);
    throw err;
  }
}

/** lib/servers/upstream-auth.ts owns the 401 → fresh token → once more rule; it reads only the status of what `send` returns. */
type TWire = TUpstreamSend & { body: string | undefined; routing: Record<string, string> | null };

async function sendWithOAuth(call: TUpstreamCall, init: TWire, auth: TUpstreamAuth): Promise<TUpstreamReply> {
  let reply: TUpstreamReply | null = null;
  await fetchWithUpstreamAuth(auth, async (authorization) => {
    reply?.close();
    reply = await exchange(call, init, authorization);
    return new Response(null, { status: reply.status >= 200 && reply.status <= 599 ? reply.status : 502 });
  });
  return reply!;
}

function exchange(call: TUpstreamCall, init: TWire, authorization: string | null, retry = true): Promise<TUpstreamReply> {
  const target = targetOf(call.server.url);
  const headers: OutgoingHttpHeaders = { accept: init.accept };
  if (call.sessionId) headers["mcp-session-id"] = call.sessionId;
  if (call.protocolVersion) headers["mcp-protocol-version"] = call.protocolVersion;
  if (init.lastEventId) headers["last-event-id"] = init.lastEventId;
  if (authorization) headers.authorization = authorization;
  if (init.body !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = Buffer.byteLength(init.body);
  }
  if (init.routing) Object.assign(headers, init.routing);
  const signal = call.signal;
  return new Promise<TUpstreamReply>((resolve, reject) => {
    if (signal?.aborted) return reject(new UpstreamError("The upstream server is unreachable.", signal.reason));
    let failure: UpstreamError | null = null;
    let settled = false;
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    let req: http.ClientRequest;
    const end = (why: UpstreamError) => {
      if (finished) return; // the socket may serve another request by now
      failure ??= why;
      req.destroy(why);
    };
    const onAbort = () => end(new UpstreamError("The upstream server is unreachable.", signal?.reason));
    const cleanUp = () => {
      finished = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    try {
      const options = { agent: target.agent, hostname: target.hostname, port: target.port, path: target.path, method: init.method, headers };
      req = (target.secure ? https : http).request(options);
    } catch (err) {
      // A header value HTTP cannot carry (a control character in a stored session id).
      return reject(new UpstreamError("The upstream server is unreachable.", err));
    }
    req.on("error", (err) => {
      if (settled) return; // after the headers, the body's reader reports it
      settled = true;
      cleanUp();
      // A keep-alive socket the upstream closed just as it was reused: the request never reached
      // it, so it is sent once more on a fresh connection (what Node's documentation advises).
      if (retry && !failure && req.reusedSocket && (err as NodeJS.ErrnoException).code === "ECONNRESET") {
        exchange(call, init, authorization, false).then(resolve, reject);
        return;
      }
      reject(failure ?? new UpstreamError("The upstream server is unreachable.", err));
    });
    req.once("close", cleanUp);
    req.once("response", (res: IncomingMessage) => {
      settled = true;
      const encoding = mediaType(res.headers["content-encoding"]);
      const decoder = encoding === "gzip" || encoding === "x-gzip" ? zlib.createGunzip() : encoding === "deflate" ? zlib.createInflate() : encoding === "br" ? zlib.createBrotliDecompress() : null;
      let body: Readable = res;
      if (decoder) {
        res.on("error", (err) => decoder.destroy(err));
        body = res.pipe(decoder);
      }
      resolve({
        status: res.statusCode ?? 502,
        headers: res.headers,
        type: mediaType(res.headers["content-type"]),
        body,
        failure: () => failure,
        close: () => {
          // An unread rest keeps the socket from its agent: drain it when it is all here, else drop the connection.
          if (!res.complete) req.destroy();
          else res.resume();
          decoder?.destroy();
        },
      });
    });
    if (init.timeoutMs !== null) timer = setTimeout(() => end(new UpstreamError("The upstream server did not answer in time.")), init.timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    req.end(init.body);
  });
}

function tooLarge(): UpstreamError {
  return new UpstreamError("The upstream server sent a message larger than Tether accepts.");
}

function broken(reply: TUpstreamReply, err?: unknown): UpstreamError {
  return reply.failure() ?? (err instanceof UpstreamError ? err : new UpstreamError("The upstream server failed while answering.", err));
}

/** The whole body as text, refused beyond MAX_UPSTREAM_MESSAGE_BYTES. */
export function readReplyText(reply: TUpstreamReply): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: UpstreamError) => {
      if (done) return;
      done = true;
      reply.close();
      reject(err);
    };
    reply.body.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_UPSTREAM_MESSAGE_BYTES) return fail(tooLarge());
      chunks.push(chunk);
    });
    reply.body.once("end", () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks, size).toString("utf8"));
    });
    reply.body.once("error", (err) => fail(broken(reply, err)));
    reply.body.once("close", () => fail(broken(reply)));
  });
}

/**
 * The `message` events of an SSE body, pulled one at a time: the body is paused while more than
 * QUEUE_HIGH_WATER characters of events wait to be taken, so a slow agent slows the upstream
 * instead of filling memory (a poll's one small answer and the end of its stream are read without
 * a pause and a resume in between). One event may not grow beyond MAX_UPSTREAM_MESSAGE_BYTES
 * (characters up to the blank line that ends it).
 */
const QUEUE_HIGH_WATER = 64 * 1024;

export class UpstreamEventReader {
  readonly #reply: TUpstreamReply;
  readonly #queue: TUpstreamEvent[] = [];
  /** Characters of event data in the queue. */
  #queued = 0;
  #ended = false;
  #draining = false;
  #error: UpstreamError | null = null;
  #wake: (() => void) | null = null;

  constructor(reply: TUpstreamReply) {
    this.#reply = reply;
    const body = reply.body;
    let pending = 0;
    const parser = createParser({
      onEvent: (event) => {
        if (event.event && event.event !== "message") return;
        if (event.data === "") return; // a priming event (resumption id only)
        this.#queue.push({ data: event.data, id: event.id, event: event.event });
        this.#queued += event.data.length;
      },
    });
    body.setEncoding("utf8");
    body.on("data", (chunk: string) => {
      if (this.#error || this.#draining) return;
      const end = Math.max(chunk.lastIndexOf("\n\n"), chunk.lastIndexOf("\r\n\r\n"), chunk.lastIndexOf("\r\r"));
      pending = end === -1 ? pending + chunk.length : chunk.length - end;
      if (pending > MAX_UPSTREAM_MESSAGE_BYTES) return this.#fail(tooLarge());
      parser.feed(chunk);
      if (this.#queue.length > 0) {
        if (this.#queued > QUEUE_HIGH_WATER) body.pause();
        this.#notify();
      }
    });
    body.once("end", () => {
      this.#ended = true;
      this.#notify();
    });
    body.once("error", (err) => this.#fail(broken(reply, err)));
    body.once("close", () => {
      if (!this.#ended) this.#fail(broken(reply));
    });
  }

  /** The next event; null once the stream has ended. Throws UpstreamError when it failed. */
  async next(): Promise<TUpstreamEvent | null> {
    for (;;) {
      const event = this.#queue.shift();
      if (event) {
        this.#queued -= event.data.length;
        return event;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        if (this.#reply.body.isPaused()) this.#reply.body.resume();
      });
    }
  }

  /**
   * Reads the rest of the stream and drops it: the connection goes back to its pool when the
   * upstream ends the stream (one that never does is cut by the exchange's timeout).
   */
  drain(): void {
    if (this.#ended || this.#error) return this.#reply.close();
    this.#draining = true;
    this.#queue.length = 0;
    this.#queued = 0;
    if (this.#reply.body.isPaused()) this.#reply.body.resume();
  }

  /** Stops reading: the upstream connection is closed unless the stream already ended. */
  close(): void {
    if (!this.#ended && !this.#error) this.#error = new UpstreamError("The upstream stream was closed by Tether.");
    this.#reply.close();
    this.#notify();
  }

  #fail(err: UpstreamError): void {
    if (this.#ended || this.#error) return;
    this.#error = err;
    this.#reply.close();
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

/**
 * The JSON-RPC messages of an upstream answer, whichever way it came (one JSON body, or an SSE
 * stream of `message` events), like upstream.ts's `readUpstreamEvents` for a fetch Response.
 * An empty 202 yields nothing; the connection is released when the caller stops early.
 */
export async function* readReplyEvents(reply: TUpstreamReply): AsyncGenerator<TUpstreamEvent> {
  if (reply.status === 202 || reply.status === 204) {
    reply.close();
    return;
  }
  if (reply.type === "application/json") {
    yield { data: await readReplyText(reply) };
    return;
  }
  if (reply.type !== "text/event-stream") {
    reply.close();
    throw new UpstreamError(`The upstream server answered with an unexpected content type (${reply.type || "none"}).`, undefined, reply.status);
  }
  const reader = new UpstreamEventReader(reply);
  try {
    for (let event = await reader.next(); event; event = await reader.next()) yield event;
  } finally {
    reader.close();
  }
}
