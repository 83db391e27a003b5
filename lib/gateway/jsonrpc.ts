// JSON-RPC 2.0 as the gateway sees it: message shapes, the error codes it answers with, and the
// one "task not found" answer every refused task operation gets. Pure (no I/O).
import { z } from "zod";

export const JSONRPC_VERSION = "2.0";

export const RPC_ERROR = {
  PARSE: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  /** Implementation-defined server errors (-32000 … -32099). */
  SERVER: -32000,
  UPSTREAM_UNAVAILABLE: -32001,
  RATE_LIMITED: -32029,
} as const;

/**
 * What the SDK answers for an unknown task id. A refused task operation answers with exactly
 * this, whatever the real reason, so the gateway is not an oracle for which tokens exist.
 */
export const TASK_NOT_FOUND_MESSAGE = "Failed to retrieve task: Task not found";

export const RELATED_TASK_META_KEY = "io.modelcontextprotocol/related-task";

const ZId = z.union([z.string().max(256), z.number().int().safe()]);
const ZParams = z.record(z.string(), z.unknown());

const ZRequest = z.looseObject({ jsonrpc: z.literal(JSONRPC_VERSION), id: ZId, method: z.string().min(1).max(256), params: ZParams.optional() });
const ZNotification = z.looseObject({ jsonrpc: z.literal(JSONRPC_VERSION), method: z.string().min(1).max(256), params: ZParams.optional() });
const ZResult = z.looseObject({ jsonrpc: z.literal(JSONRPC_VERSION), id: ZId, result: ZParams });
const ZErrorObject = z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() });
const ZErrorResponse = z.looseObject({ jsonrpc: z.literal(JSONRPC_VERSION), id: ZId.nullable(), error: ZErrorObject });

export type TJsonRpcId = z.infer<typeof ZId>;
export type TJsonRpcRequest = z.infer<typeof ZRequest>;
export type TJsonRpcNotification = z.infer<typeof ZNotification>;
export type TJsonRpcResult = z.infer<typeof ZResult>;
export type TJsonRpcErrorResponse = z.infer<typeof ZErrorResponse>;
export type TJsonRpcError = z.infer<typeof ZErrorObject>;

export type TJsonRpcMessage =
  | { kind: "request"; message: TJsonRpcRequest }
  | { kind: "notification"; message: TJsonRpcNotification }
  | { kind: "result"; message: TJsonRpcResult }
  | { kind: "error"; message: TJsonRpcErrorResponse };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is TJsonRpcId => (typeof v === "string" ? v.length <= 256 : Number.isSafeInteger(v));
const isMethod = (v: unknown): v is string => typeof v === "string" && v.length >= 1 && v.length <= 256;
const hasValidParams = (v: Record<string, unknown>) => v.params === undefined || isRecord(v.params);

/**
 * Classifies one decoded JSON value; null when it is not a JSON-RPC 2.0 message. The schemas above
 * say what each kind is (and type it); this checks exactly that by hand, without copying the
 * message, because every agent call and every upstream answer comes through here and the schema
 * parse was the largest single cost of a poll after Node's HTTP (tests/unit/jsonrpc.test.ts holds
 * the two to the same answers).
 */
export function classifyMessage(value: unknown): TJsonRpcMessage | null {
  if (!isRecord(value) || value.jsonrpc !== JSONRPC_VERSION) return null;
  if ("method" in value) {
    if (!isMethod(value.method) || !hasValidParams(value)) return null;
    if ("id" in value) return isId(value.id) ? { kind: "request", message: value as TJsonRpcRequest } : null;
    return { kind: "notification", message: value as TJsonRpcNotification };
  }
  if ("result" in value) return isId(value.id) && isRecord(value.result) ? { kind: "result", message: value as TJsonRpcResult } : null;
  if ("error" in value) {
    const error = value.error;
    if ((value.id !== null && !isId(value.id)) || !isRecord(error) || !Number.isSafeInteger(error.code) || typeof error.message !== "string") return null;
    // The error object is closed (unknown members are dropped), as its schema says.
    const closed: TJsonRpcError = { code: error.code as number, message: error.message };
    if (error.data !== undefined) closed.data = error.data;
    return { kind: "error", message: { ...value, id: value.id as TJsonRpcId | null, error: closed } as TJsonRpcErrorResponse };
  }
  return null;
}

/** The same classification by the schemas themselves: the reference the hand-written one is tested against. */
export function classifyMessageBySchema(value: unknown): TJsonRpcMessage | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  if ("method" in v) {
    if ("id" in v) {
      const r = ZRequest.safeParse(v);
      return r.success ? { kind: "request", message: r.data } : null;
    }
    const n = ZNotification.safeParse(v);
    return n.success ? { kind: "notification", message: n.data } : null;
  }
  if ("result" in v) {
    const r = ZResult.safeParse(v);
    return r.success ? { kind: "result", message: r.data } : null;
  }
  if ("error" in v) {
    const e = ZErrorResponse.safeParse(v);
    return e.success ? { kind: "error", message: e.data } : null;
  }
  return null;
}

/** Why a message was refused, in words an agent's developer can act on. */
export function describeInvalidMessage(value: unknown): string {
  if (Array.isArray(value)) return "JSON-RPC batches are not supported (MCP 2025-06-18 and later send one message per request).";
  if (typeof value !== "object" || value === null) return "The body must be a JSON-RPC 2.0 object.";
  const v = value as Record<string, unknown>;
  if (v.jsonrpc !== JSONRPC_VERSION) return 'The message must have "jsonrpc": "2.0".';
  if ("method" in v && (typeof v.method !== "string" || v.method.length === 0)) return '"method" must be a non-empty string.';
  if ("id" in v && !ZId.safeParse(v.id).success) return '"id" must be a string or an integer.';
  if ("params" in v && !ZParams.safeParse(v.params).success) return '"params" must be an object.';
  if (!("method" in v) && !("result" in v) && !("error" in v)) return 'The message must have a "method", a "result" or an "error".';
  return "The message is not a valid JSON-RPC 2.0 request, notification or response.";
}

export function errorResponse(id: TJsonRpcId | null, code: number, message: string, data?: unknown): TJsonRpcErrorResponse {
  return { jsonrpc: JSONRPC_VERSION, id, error: data === undefined ? { code, message } : { code, message, data } };
}

export function taskNotFound(id: TJsonRpcId): TJsonRpcErrorResponse {
  return errorResponse(id, RPC_ERROR.INVALID_PARAMS, TASK_NOT_FOUND_MESSAGE);
}

/** A gateway answer at the HTTP level (no session, bad content type, …), with a JSON-RPC error body. */
export class GatewayHttpError extends Error {
  constructor(
    readonly status: number,
    readonly rpcCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "GatewayHttpError";
  }
}
