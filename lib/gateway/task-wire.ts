// The two task wires the gateway governs, as they show in one JSON-RPC request (pure):
//  - `core_2025_11_25`: the 2025-11-25 core tasks, inside an Mcp-Session-Id session opened by
//    `initialize`; the requester asks for a task with `params.task`.
//  - `ext_2026_07_28`: the Tasks extension `io.modelcontextprotocol/tasks` of the 2026-07-28
//    revision, which has no sessions and no initialize: every request carries its own protocol
//    version, client info and capabilities in `_meta`, the requester opts in through those
//    capabilities, and the server decides whether to answer with a task (`resultType: "task"`).
// Shapes come from @modelcontextprotocol/ext-tasks (`/core/v2`), not hand-written schemas.
import {
  CLIENT_CAPABILITIES_META_KEY_V2,
  CreateTaskResultV2Schema,
  DetailedTaskV2Schema,
  TASKS_EXTENSION_ID_V2,
  TaskStatusNotificationParamsV2Schema,
  hasTaskClientCapabilityV2,
  type DetailedTaskV2,
} from "@modelcontextprotocol/ext-tasks/core/v2";
import type { TObservedStatus } from "@/lib/handles/apply-observed-status";
import type { TUpstreamTask } from "./task-shape";

export type TTaskWire = "core_2025_11_25" | "ext_2026_07_28";

/** The first protocol revision without sessions, where tasks are the extension's. */
export const MODERN_PROTOCOL_VERSION = "2026-07-28";
export const PROTOCOL_VERSION_META_KEY = "io.modelcontextprotocol/protocolVersion";
export const CLIENT_INFO_META_KEY = "io.modelcontextprotocol/clientInfo";
export { CLIENT_CAPABILITIES_META_KEY_V2 as CLIENT_CAPABILITIES_META_KEY, TASKS_EXTENSION_ID_V2 as TASKS_EXTENSION_ID };

type TJson = Record<string, unknown>;
const isObject = (v: unknown): v is TJson => typeof v === "object" && v !== null && !Array.isArray(v);
const PROTOCOL_VERSION = /^\d{4}-\d{2}-\d{2}$/;

/** Revisions compare as dates (YYYY-MM-DD), which is how the SDKs order them too. */
export function isModernProtocolVersion(version: unknown): version is string {
  return typeof version === "string" && PROTOCOL_VERSION.test(version) && version >= MODERN_PROTOCOL_VERSION;
}

function metaOf(message: TJson): TJson | null {
  const params = message.params;
  return isObject(params) && isObject(params._meta) ? params._meta : null;
}

/**
 * The protocol revision a message claims for itself, when it is a 2026-07-28+ (session-less)
 * one: from its `_meta` envelope, else from the MCP-Protocol-Version header. `server/discover`
 * is modern by definition. Null for the 2025 era (sessions, initialize).
 */
export function modernVersionOf(message: TJson, headerVersion: string | null): string | null {
  const claimed = metaOf(message)?.[PROTOCOL_VERSION_META_KEY];
  if (isModernProtocolVersion(claimed)) return claimed;
  const header = headerVersion?.trim() ?? null;
  if (isModernProtocolVersion(header)) return header;
  if (message.method === "server/discover") return MODERN_PROTOCOL_VERSION;
  return null;
}

/** Whether the requester declared the Tasks extension on this request (its opt-in). */
export function optsIntoTasksExtension(message: TJson): boolean {
  return hasTaskClientCapabilityV2(message.params);
}

/**
 * The protocol version for a request of Tether's own about a handle (status sync, cancel): the
 * 2026-07-28 wire has no session to carry one, so each request states the extension's revision;
 * the 2025-11-25 wire uses the version its gateway session negotiated.
 */
export function ownCallProtocolVersion(wire: TTaskWire, sessionProtocolVersion: string | null): string | null {
  return wire === "ext_2026_07_28" ? MODERN_PROTOCOL_VERSION : sessionProtocolVersion;
}

/**
 * Tether's own per-request envelope, for the requests it makes upstream itself on the extension
 * wire (status sync, cancel, probe): its protocol version, who it is, and the extension opt-in.
 */
export function withModernEnvelope(params: TJson, protocolVersion: string): TJson {
  const meta = isObject(params._meta) ? params._meta : {};
  return {
    ...params,
    _meta: {
      ...meta,
      [PROTOCOL_VERSION_META_KEY]: protocolVersion,
      [CLIENT_INFO_META_KEY]: { name: "tether", version: "1" },
      [CLIENT_CAPABILITIES_META_KEY_V2]: { extensions: { [TASKS_EXTENSION_ID_V2]: {} } },
    },
  };
}

/**
 * The routing headers a 2026-07-28 Streamable HTTP request carries (SEP-2243): Mcp-Method, and
 * Mcp-Name mirroring `params.name` (tools/call, prompts/get), `params.uri` (resources) or
 * `params.taskId` (tasks/*). Computed from the body as it goes upstream, so a rewritten task id
 * is what the header says too; values with characters a header cannot carry are left out.
 */
export function modernRoutingHeaders(body: unknown): Record<string, string> {
  if (!isObject(body) || typeof body.method !== "string") return {};
  const headers: Record<string, string> = { "mcp-method": body.method };
  const params = isObject(body.params) ? body.params : {};
  const name = body.method.startsWith("tasks/") ? params.taskId : body.method.startsWith("resources/") ? params.uri : params.name;
  if (typeof name === "string" && name.length > 0 && name.length <= 1024 && /^[\x21-\x7e]+$/.test(name)) headers["mcp-name"] = name;
  return headers;
}

/** `CreateTaskResult` on the extension wire, or null when the result is not a valid one. */
export function parseExtCreateTaskResult(result: unknown): TUpstreamTask | null {
  const parsed = CreateTaskResultV2Schema.safeParse(result);
  return parsed.success ? toUpstreamTask(parsed.data) : null;
}

/** A `tasks/get` answer (DetailedTask) on the extension wire, or null when it is not one. */
export function parseExtDetailedTask(result: unknown): (TUpstreamTask & { detail: DetailedTaskV2 }) | null {
  const parsed = DetailedTaskV2Schema.safeParse(result);
  return parsed.success ? { ...toUpstreamTask(parsed.data), detail: parsed.data } : null;
}

/** `notifications/tasks` params (a DetailedTask), or null. */
export function parseExtTaskNotification(params: unknown): TUpstreamTask | null {
  const parsed = TaskStatusNotificationParamsV2Schema.safeParse(params);
  return parsed.success ? toUpstreamTask(parsed.data as { taskId: string; status: TUpstreamTask["status"]; statusMessage?: string; ttlMs: number | null; pollIntervalMs?: number }) : null;
}

/** The extension's task in the gateway's common form (`ttlMs` → `ttl`, `pollIntervalMs` → `pollInterval`). */
function toUpstreamTask(task: { taskId: string; status: TUpstreamTask["status"]; statusMessage?: string | undefined; ttlMs: number | null; pollIntervalMs?: number | undefined }): TUpstreamTask {
  return {
    taskId: task.taskId,
    status: task.status,
    ...(task.statusMessage !== undefined ? { statusMessage: task.statusMessage.slice(0, 10_000) } : {}),
    ttl: task.ttlMs,
    ...(task.pollIntervalMs !== undefined ? { pollInterval: task.pollIntervalMs } : {}),
  };
}

/** What a task answer says about the task, for the handle (either wire). */
export function observedOf(task: TUpstreamTask): TObservedStatus {
  return { status: task.status, statusMessage: task.statusMessage, pollInterval: task.pollInterval };
}

/**
 * The extension's answer as the agent sees it: the handle's token for the task id and the TTL
 * Tether enforces. Everything else (status, inline result or error, input requests, `_meta`) is
 * passed through.
 */
export function asAgentExtTask(result: TJson, token: string, effectiveTtlMs: number): TJson {
  return { ...result, taskId: token, ttlMs: effectiveTtlMs };
}
