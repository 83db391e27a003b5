import "server-only";
import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { getEnv } from "@/lib/env";
import { BufferedRequest } from "./buffered-request";
import { GatewayResponse, type TBodySource } from "./gateway-response";
import { handleMcpDelete } from "./handle-mcp-delete";
import { handleMcpGet } from "./handle-mcp-get";
import { handleMcpPost } from "./handle-mcp-post";
import { jsonRpcHttpResponse } from "./gateway-http";
import { JSONRPC_VERSION, RPC_ERROR } from "./jsonrpc";

// The gateway endpoint on Node's own HTTP server (scripts/serve.ts), beside Next.js rather than
// inside it: an agent's poll is the hottest request Tether serves, and Next's routing, rendering
// pipeline and middleware cost several times what the gateway's own work does. The handlers are
// the same ones app/mcp/[server]/route.ts calls; this file only gives them Node's request (as a
// BufferedRequest) and writes their answer to Node's response.

const GATEWAY_PATH = /^\/mcp\/([^/?#]*)\/?(?:\?.*)?$/;

/** The slug a request for `/mcp/{slug}` names, or null for any other path. */
export function gatewaySlugOf(url: string | undefined): string | null {
  if (!url || !url.startsWith("/mcp/")) return null;
  const match = GATEWAY_PATH.exec(url);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return "\u0000"; // undecodable: no server has that slug, so it is one 404 like any unknown slug
  }
}

/**
 * The body, read up to one byte past the configured limit: the handler then refuses it with 413
 * exactly as it does a body streamed to it, without this process buffering an unbounded upload.
 */
function readBody(req: IncomingMessage): Promise<Buffer<ArrayBuffer> | null> {
  const cap = getEnv().TETHER_GATEWAY_MAX_BODY_BYTES + 1;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      resolve(size === 0 ? null : chunks.length === 1 && chunks[0]!.length === size ? (chunks[0] as Buffer<ArrayBuffer>) : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      const room = cap - size;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      size += Math.min(chunk.length, room);
      // Stop keeping it (the rest flows to nobody); the answer is a 413 and the connection is not reused.
      if (size >= cap) done();
    };
    const fail = (err?: Error) => {
      if (settled) return;
      settled = true;
      reject(err ?? new Error("The agent closed the connection before sending the whole body."));
    };
    req.on("data", onData);
    req.once("end", done);
    req.on("error", fail);
    req.once("close", () => fail());
  });
}

async function writeResponse(res: ServerResponse, response: Response, signal: AbortSignal): Promise<void> {
  const content = response instanceof GatewayResponse ? response.claim() : null;
  const headers: Record<string, string> = content ? { ...(response as GatewayResponse).headerRecord } : {};
  if (!content) response.headers.forEach((value, name) => (headers[name] = value));
  if (content) {
    if (content.kind === "stream") return writeStream(res, response.status, headers, content.source, signal);
    if (content.kind === "text") headers["content-length"] = String(Buffer.byteLength(content.text));
    res.writeHead(response.status, headers).end(content.kind === "text" ? content.text : undefined);
    return;
  }
  const streaming = (headers["content-type"] ?? "").startsWith("text/event-stream");
  if (!response.body) {
    res.writeHead(response.status, headers).end();
    return;
  }
  if (!streaming) {
    const body = Buffer.from(await response.arrayBuffer());
    headers["content-length"] = String(body.length);
    res.writeHead(response.status, headers).end(body);
    return;
  }
  res.writeHead(response.status, headers);
  res.flushHeaders();
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || signal.aborted) break;
      if (!res.write(value)) await once(res, "drain", { signal });
    }
  } catch {
    /* the agent went away, or the upstream stream failed after the headers were sent */
  } finally {
    await reader.cancel().catch(() => undefined);
    res.end();
  }
}

/**
 * An SSE answer from its source, chunk by chunk. Headers go out with the first event, or after a
 * moment when it takes longer (tasks/result blocks). Each event is held back (corked) until the
 * next one or the end is known, at most until the event loop turns: a poll's answer, the headers
 * and the stream's end then leave in one write instead of three.
 */
async function writeStream(res: ServerResponse, status: number, headers: Record<string, string>, source: TBodySource, signal: AbortSignal): Promise<void> {
  const cancel = () => source.cancel();
  signal.addEventListener("abort", cancel, { once: true });
  res.writeHead(status, headers);
  const flush = setTimeout(() => res.flushHeaders(), HEADERS_DELAY_MS);
  try {
    let chunk = await source.next();
    clearTimeout(flush);
    while (chunk !== null && !signal.aborted) {
      res.cork();
      let corked = true;
      const release = setImmediate(() => {
        corked = false;
        res.uncork();
      });
      if (!res.write(chunk)) {
        clearImmediate(release);
        res.uncork();
        await once(res, "drain", { signal });
        chunk = await source.next();
        continue;
      }
      chunk = await source.next();
      if (corked) {
        clearImmediate(release);
        if (chunk === null) res.end();
        res.uncork();
      }
    }
  } catch {
    /* the agent went away while a write waited */
  } finally {
    clearTimeout(flush);
    signal.removeEventListener("abort", cancel);
    if (signal.aborted) source.cancel();
    if (!res.writableEnded) res.end();
  }
}

const HEADERS_DELAY_MS = 20;

/** One request for `/mcp/{slug}` on Node's HTTP server. */
export async function serveGatewayRequest(req: IncomingMessage, res: ServerResponse, slug: string): Promise<void> {
  const aborted = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) aborted.abort();
  });
  try {
    const method = req.method ?? "GET";
    const body = method === "POST" ? await readBody(req) : null;
    const request = new BufferedRequest({ rawHeaders: req.rawHeaders, body, signal: aborted.signal });
    let response: Response;
    if (method === "POST") response = await handleMcpPost(request, slug);
    else if (method === "GET") response = await handleMcpGet(request, slug);
    else if (method === "DELETE") response = await handleMcpDelete(request, slug);
    else {
      response = jsonRpcHttpResponse({ jsonrpc: JSONRPC_VERSION, id: null, error: { code: RPC_ERROR.SERVER, message: `Method Not Allowed: ${method.slice(0, 20)}.` } }, 405, {
        allow: "POST, GET, DELETE",
      });
    }
    await writeResponse(res, response, aborted.signal);
  } catch {
    // The handlers answer every error themselves; only a broken connection gets here.
    if (!res.headersSent) res.writeHead(400).end();
    else res.end();
  }
}
