import "server-only";
import { getEnv } from "@/lib/env";
import { describeErrorForLog, log } from "@/lib/log";
import { BufferedRequest, type TGatewayRequest } from "./buffered-request";
import { GatewayResponse } from "./gateway-response";
import { GatewayHttpError, JSONRPC_VERSION, RPC_ERROR, errorResponse, type TJsonRpcId } from "./jsonrpc";

// The HTTP side of the gateway endpoint (MCP Streamable HTTP): what a request must look like,
// and how answers and refusals are written. Every refusal is a JSON-RPC error body.

export const SESSION_HEADER = "mcp-session-id";
const NO_STORE = { "cache-control": "no-store" };

export function jsonRpcHttpResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new GatewayResponse({ kind: "text", text: JSON.stringify(body) }, { status, headers: { "content-type": "application/json", ...NO_STORE, ...headers } });
}

export function rpcError(id: TJsonRpcId | null, code: number, message: string): Response {
  return jsonRpcHttpResponse(errorResponse(id, code, message));
}

/** Refusals before a message is understood carry `id: null` (JSON-RPC: the id could not be determined). */
export function gatewayErrorResponse(err: unknown, requestId: string): Response {
  if (err instanceof GatewayHttpError) {
    return jsonRpcHttpResponse({ jsonrpc: JSONRPC_VERSION, id: null, error: { code: err.rpcCode, message: err.message } }, err.status, {
      "x-request-id": requestId,
      ...err.headers,
    });
  }
  log.error({ requestId, err: describeErrorForLog(err) }, "Gateway request failed");
  return jsonRpcHttpResponse({ jsonrpc: JSONRPC_VERSION, id: null, error: { code: RPC_ERROR.INTERNAL, message: `Internal error. Request id: ${requestId}` } }, 500, {
    "x-request-id": requestId,
  });
}

export function unauthenticated(): GatewayHttpError {
  return new GatewayHttpError(401, RPC_ERROR.SERVER, "Unauthorized: send an agent API key or OIDC access token as `Authorization: Bearer …`.", {
    "www-authenticate": 'Bearer error="invalid_token"',
  });
}

/** POST must carry JSON and accept both answer forms (Streamable HTTP, "Sending Messages to the Server"). */
export function assertPostHeaders(request: TGatewayRequest): void {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    throw new GatewayHttpError(415, RPC_ERROR.SERVER, `Unsupported Media Type: the body must be application/json${type ? `, not ${type.slice(0, 100)}` : ""}.`);
  }
  const accept = (request.headers.get("accept") ?? "").toLowerCase();
  const anything = accept.includes("*/*");
  if (!anything && !(accept.includes("application/json") && accept.includes("text/event-stream"))) {
    throw new GatewayHttpError(406, RPC_ERROR.SERVER, "Not Acceptable: the client must accept both application/json and text/event-stream.");
  }
}

/** The body, refused with 413 beyond the configured limit (checked while reading, not only by Content-Length). */
export async function readBodyWithLimit(request: TGatewayRequest): Promise<string> {
  const limit = getEnv().TETHER_GATEWAY_MAX_BODY_BYTES;
  const tooLarge = () => new GatewayHttpError(413, RPC_ERROR.INVALID_REQUEST, `Payload Too Large: a message may be at most ${limit} bytes.`);
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  if (request instanceof BufferedRequest) {
    // Node's server read it already, up to one byte past the limit.
    const body = request.bufferedBody;
    if (body && body.length > limit) throw tooLarge();
    return body ? decodeUtf8(body) : "";
  }
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return decodeUtf8(Buffer.concat(chunks));
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new GatewayHttpError(400, RPC_ERROR.PARSE, "Parse error: the body is not valid UTF-8.");
  }
}

/**
 * Deeper than any real MCP message. JSON.parse takes any depth, but JSON.stringify and
 * structuredClone recurse and overflow the stack at a few thousand levels, which the body limit
 * allows: without this bound such a message reached the upstream call and was answered as an
 * upstream failure (502 for notifications), with a `gateway.upstream_error` audit event.
 */
export const MAX_JSON_DEPTH = 128;

export function parseJsonBody(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new GatewayHttpError(400, RPC_ERROR.PARSE, "Parse error: the body is not valid JSON.");
  }
  if (exceedsDepth(value, MAX_JSON_DEPTH)) {
    throw new GatewayHttpError(400, RPC_ERROR.INVALID_REQUEST, `Invalid Request: the message is nested more than ${MAX_JSON_DEPTH} levels deep.`);
  }
  return value;
}

/** Iterative, so checking a hostile value cannot overflow the stack itself. */
function exceedsDepth(root: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== "object" || value === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(value) ? value : Object.values(value)) stack.push([child, depth + 1]);
  }
  return false;
}
