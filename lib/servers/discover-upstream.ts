import "server-only";
import { z } from "zod";
import { MODERN_PROTOCOL_VERSION, modernRoutingHeaders, withModernEnvelope } from "@/lib/gateway/task-wire";
import { getUpstreamAuthorizationFor, type TUpstreamAuth } from "./upstream-auth";

// `server/discover` of the 2026-07-28 revision (which has no initialize): how a registry check
// learns that an upstream speaks that revision, and so the Tasks extension's wire. The
// DiscoverResult is not part of @modelcontextprotocol/ext-tasks (it is the base protocol's), so
// the few fields Tether reads are declared here; everything else is ignored.
const ZDiscoverResult = z.looseObject({
  supportedVersions: z.array(z.string().max(40)).max(50),
  capabilities: z.record(z.string(), z.unknown()),
  _meta: z.record(z.string(), z.unknown()).optional(),
});
const SERVER_INFO_META_KEY = "io.modelcontextprotocol/serverInfo";
const MAX_TOOL_PAGES = 20;

export type TModernDiscovery = { protocolVersion: string; capabilities: Record<string, unknown>; serverInfo: unknown; listTools: () => Promise<unknown[] | null> };

type TJson = Record<string, unknown>;
const isObject = (v: unknown): v is TJson => typeof v === "object" && v !== null && !Array.isArray(v);

async function post(url: string, auth: TUpstreamAuth, body: TJson, signal: AbortSignal): Promise<TJson | null> {
  // The current credentials as they are: a refusal (401) is not retried with a fresh token here;
  // the handshake that follows does that and says what went wrong.
  const authorization = await getUpstreamAuthorizationFor(auth);
  const response = await fetch(url, {
    method: "POST",
    headers: {
      accept: "application/json, text/event-stream",
      "content-type": "application/json",
      "mcp-protocol-version": MODERN_PROTOCOL_VERSION,
      ...modernRoutingHeaders(body),
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify(body),
    signal,
    redirect: "manual",
  });
  const type = (response.headers.get("content-type") ?? "").toLowerCase();
  if (!response.ok || !type.startsWith("application/json")) {
    await response.body?.cancel();
    return null;
  }
  const answer: unknown = await response.json().catch(() => null);
  return isObject(answer) && answer.id === body.id && isObject(answer.result) ? answer.result : null;
}

/**
 * Asks the upstream `server/discover`. Null when it does not answer as a 2026-07-28+ server
 * (a 2025-era server refuses the method or the session-less request): the caller then runs the
 * 2025 `initialize` handshake. Network failures are left to that handshake to classify.
 */
export async function discoverModernUpstream(input: { url: string; auth: TUpstreamAuth; signal: AbortSignal }): Promise<TModernDiscovery | null> {
  let result: TJson | null;
  try {
    result = await post(input.url, input.auth, { jsonrpc: "2.0", id: "tether-discover", method: "server/discover", params: withModernEnvelope({}, MODERN_PROTOCOL_VERSION) }, input.signal);
  } catch {
    return null;
  }
  const parsed = ZDiscoverResult.safeParse(result);
  if (!parsed.success) return null;
  if (!parsed.data.supportedVersions.includes(MODERN_PROTOCOL_VERSION)) return null;
  const version = MODERN_PROTOCOL_VERSION;
  return {
    protocolVersion: version,
    capabilities: parsed.data.capabilities,
    serverInfo: parsed.data._meta?.[SERVER_INFO_META_KEY] ?? null,
    listTools: async () => {
      const tools: unknown[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_TOOL_PAGES; page++) {
        const listed = await post(input.url, input.auth, { jsonrpc: "2.0", id: `tether-tools-${page}`, method: "tools/list", params: withModernEnvelope(cursor ? { cursor } : {}, version) }, input.signal);
        if (!listed || !Array.isArray(listed.tools)) return page === 0 ? null : tools;
        tools.push(...listed.tools);
        cursor = typeof listed.nextCursor === "string" ? listed.nextCursor : undefined;
        if (!cursor) break;
      }
      return tools;
    },
  };
}
