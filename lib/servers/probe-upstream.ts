import "server-only";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { TETHER_VERSION } from "@/lib/version";
import { classifyProbeFailure, type TProbeObservation } from "./classify-probe-failure";
import { discoverModernUpstream, type TModernDiscovery } from "./discover-upstream";
import { TASKS_EXTENSION_ID, type TProbeDetails, type TProbeResult, type TToolSummary } from "./schemas";
import { detectTaskWires, MAX_RECORDED_TOOLS, summarizeCapabilities, summarizeServerInfo, summarizeTools } from "./summarize-capabilities";
import type { TUpstreamCredentials } from "./server-credentials";
import {
  ephemeralUpstreamAuth,
  fetchWithUpstreamAuth,
  getUpstreamAuthorizationFor,
  releaseUpstreamAuth,
  upstreamAuthOf,
  UpstreamAuthError,
  type TUpstreamAuth,
  type TUpstreamAuthServer,
} from "./upstream-auth";

const MAX_TOOL_PAGES = 20;

/** An OAuth token request that failed, as a connection check's problem. */
function tokenProblem(err: UpstreamAuthError): TProbeResult {
  return { ok: false, problem: { kind: err.kind === "credentials_unreadable" ? "credentials_unreadable" : "oauth_token_error", message: err.message }, latencyMs: null, details: null };
}

/**
 * Connects to an upstream MCP server the way the gateway will (Streamable HTTP, the server's own
 * credentials: a bearer token, or an OAuth access token from lib/servers/upstream-auth.ts), runs
 * `initialize` and, when asked, `tools/list`, and says exactly what went wrong if anything did.
 * Uses the official SDK client; a wrapping fetch watches the wire so the failure can be
 * classified from facts (the HTTP status, the socket error) rather than from the SDK's error
 * text. The upstream session is ended afterwards. Writes nothing.
 */
export async function probeUpstream(input: {
  url: string;
  /** A registered server's stored credentials (their OAuth token is shared with the gateway), or credentials at hand. */
  credentials: { server: TUpstreamAuthServer } | { given: TUpstreamCredentials | null };
  timeoutMs: number;
  listTools: boolean;
}): Promise<TProbeResult> {
  let auth: TUpstreamAuth;
  try {
    auth = "server" in input.credentials ? upstreamAuthOf(input.credentials.server) : ephemeralUpstreamAuth(input.credentials.given);
  } catch (err) {
    if (err instanceof UpstreamAuthError) return tokenProblem(err);
    throw err;
  }
  try {
    return await probeWith(input, auth);
  } finally {
    releaseUpstreamAuth(auth);
  }
}

async function probeWith(input: { url: string; timeoutMs: number; listTools: boolean }, auth: TUpstreamAuth): Promise<TProbeResult> {
  const credentials = auth.credentials;
  // First the access token, so a failing token endpoint is named as such and the handshake's
  // latency is the upstream's own.
  let accessToken: string | null = null;
  try {
    const authorization = await getUpstreamAuthorizationFor(auth);
    if (credentials?.type === "oauth_client_credentials" && authorization) accessToken = authorization.slice("Bearer ".length);
  } catch (err) {
    if (err instanceof UpstreamAuthError) return tokenProblem(err);
    throw err;
  }
  const observed: TProbeObservation = {
    url: input.url,
    timeoutMs: input.timeoutMs,
    response: null,
    networkError: undefined,
    timedOut: false,
    badMessages: 0,
    secret: credentials?.type === "bearer" ? credentials.token : credentials?.type === "oauth_client_credentials" ? credentials.clientSecret : null,
    credentials: credentials?.type ?? "none",
    otherSecrets: accessToken ? [accessToken] : [],
  };
  let authError: UpstreamAuthError | null = null;
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    observed.timedOut = true;
    deadline.abort(new DOMException(`no answer within ${input.timeoutMs} ms`, "TimeoutError"));
  }, input.timeoutMs);

  const probeFetch: FetchLike = async (url, init) => {
    const method = init?.method ?? "GET";
    // Ending the session gets its own short deadline: it also runs after the check's has passed.
    const limit = method === "DELETE" ? AbortSignal.timeout(2_000) : deadline.signal;
    const signal = init?.signal ? AbortSignal.any([init.signal, limit]) : limit;
    try {
      const response = await fetchWithUpstreamAuth(auth, (authorization) => {
        const headers = new Headers(init?.headers);
        if (authorization) headers.set("authorization", authorization);
        return fetch(url, { ...init, headers, signal });
      });
      if (method === "POST") {
        const seen = { status: response.status, contentType: response.headers.get("content-type") };
        if (observed.response === null || (observed.response.status < 300 && !response.ok)) observed.response = seen;
      }
      return response;
    } catch (err) {
      // A token refresh after a 401 failed: the token endpoint is the problem, not the upstream.
      if (err instanceof UpstreamAuthError) authError ??= err;
      else if (method === "POST" && !deadline.signal.aborted) observed.networkError ??= err;
      throw err;
    }
  };

  const client = new Client(
    { name: "tether-registry-check", version: TETHER_VERSION },
    // Declaring the Tasks extension lets a 2026-07-28 server show that it speaks it.
    { capabilities: { extensions: { [TASKS_EXTENSION_ID]: {} } } },
  );
  // The SDK reports stream messages it cannot parse here (instead of failing the request), next
  // to transport errors that the request itself fails with; only the former are counted.
  client.onerror = (err: Error) => {
    if (err.name === "ZodError" || err.name === "SyntaxError") observed.badMessages += 1;
  };
  const transport = new StreamableHTTPClientTransport(new URL(input.url), {
    fetch: probeFetch,
    reconnectionOptions: { maxRetries: 0, initialReconnectionDelay: 1000, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1 },
  });

  const started = performance.now();
  try {
    // A 2026-07-28 server has no initialize: it is recognised by server/discover first.
    const modern = await discoverModernUpstream({ url: input.url, auth, signal: deadline.signal });
    if (modern) return await modernProbeResult(modern, { listTools: input.listTools, latencyMs: Math.round(performance.now() - started) });
    await client.connect(transport, { timeout: input.timeoutMs, signal: deadline.signal });
    const latencyMs = Math.round(performance.now() - started);
    const capabilities = summarizeCapabilities(client.getServerCapabilities());
    const taskWires = detectTaskWires(capabilities);
    let tools: TToolSummary[] = [];
    let toolsTruncated = false;
    if (input.listTools && capabilities.tools) {
      const listed: unknown[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_TOOL_PAGES && listed.length <= MAX_RECORDED_TOOLS; page++) {
        const result = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: input.timeoutMs, signal: deadline.signal });
        listed.push(...result.tools);
        cursor = result.nextCursor;
        if (!cursor) break;
      }
      ({ tools, truncated: toolsTruncated } = summarizeTools(listed));
      toolsTruncated ||= cursor !== undefined;
    }
    const details = {
      serverInfo: summarizeServerInfo(client.getServerVersion()),
      protocolVersion: (transport.protocolVersion ?? "").slice(0, 40),
      capabilities,
      taskWires,
      tools,
      toolsTruncated,
    };
    return withTaskSupportVerdict(details, latencyMs);
  } catch (err) {
    if (authError) return tokenProblem(authError);
    return { ok: false, problem: classifyProbeFailure(err, observed), latencyMs: null, details: null };
  } finally {
    clearTimeout(timer);
    // Leave no session behind at the upstream (one per check would pile up there).
    if (transport.sessionId) await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  }
}

/** A server that declares neither task wire has no handles for Tether to govern. */
function withTaskSupportVerdict(details: TProbeDetails, latencyMs: number): TProbeResult {
  if (details.taskWires.length === 0) {
    return {
      ok: false,
      problem: {
        kind: "no_task_support",
        message: `The server answers as an MCP server but declares no task support: neither the 2025-11-25 \`tasks\` capability nor the ${TASKS_EXTENSION_ID} extension. Tether has no task handles to govern for it.`,
      },
      latencyMs,
      details,
    };
  }
  return { ok: true, problem: null, latencyMs, details };
}

/** The check's result for a 2026-07-28 server, from its server/discover answer (and tools/list). */
async function modernProbeResult(modern: TModernDiscovery, input: { listTools: boolean; latencyMs: number }): Promise<TProbeResult> {
  const capabilities = summarizeCapabilities(modern.capabilities);
  let tools: TToolSummary[] = [];
  let toolsTruncated = false;
  if (input.listTools && capabilities.tools) {
    const listed = (await modern.listTools()) ?? [];
    ({ tools, truncated: toolsTruncated } = summarizeTools(listed));
  }
  const details: TProbeDetails = {
    serverInfo: summarizeServerInfo(modern.serverInfo),
    protocolVersion: modern.protocolVersion,
    capabilities,
    taskWires: detectTaskWires(capabilities),
    tools,
    toolsTruncated,
  };
  return withTaskSupportVerdict(details, input.latencyMs);
}
