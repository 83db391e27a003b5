import "server-only";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { TETHER_VERSION } from "@/lib/version";
import { classifyProbeFailure, type TProbeObservation } from "./classify-probe-failure";
import { TASKS_EXTENSION_ID, type TProbeResult, type TToolSummary } from "./schemas";
import { detectTaskWires, MAX_RECORDED_TOOLS, summarizeCapabilities, summarizeServerInfo, summarizeTools } from "./summarize-capabilities";

const MAX_TOOL_PAGES = 20;

/**
 * Connects to an upstream MCP server the way the gateway will (Streamable HTTP, the server's own
 * bearer token), runs `initialize` and, when asked, `tools/list`, and says exactly what went
 * wrong if anything did. Uses the official SDK client; a wrapping fetch watches the wire so the
 * failure can be classified from facts (the HTTP status, the socket error) rather than from the
 * SDK's error text. The upstream session is ended afterwards. Writes nothing.
 */
export async function probeUpstream(input: { url: string; bearerToken: string | null; timeoutMs: number; listTools: boolean }): Promise<TProbeResult> {
  const observed: TProbeObservation = {
    url: input.url,
    timeoutMs: input.timeoutMs,
    response: null,
    networkError: undefined,
    timedOut: false,
    badMessages: 0,
    secret: input.bearerToken,
  };
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
      const response = await fetch(url, { ...init, signal });
      if (method === "POST") {
        const seen = { status: response.status, contentType: response.headers.get("content-type") };
        if (observed.response === null || (observed.response.status < 300 && !response.ok)) observed.response = seen;
      }
      return response;
    } catch (err) {
      if (method === "POST" && !deadline.signal.aborted) observed.networkError ??= err;
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
    requestInit: input.bearerToken ? { headers: { Authorization: `Bearer ${input.bearerToken}` } } : {},
    reconnectionOptions: { maxRetries: 0, initialReconnectionDelay: 1000, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1 },
  });

  const started = performance.now();
  try {
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
    if (taskWires.length === 0) {
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
  } catch (err) {
    return { ok: false, problem: classifyProbeFailure(err, observed), latencyMs: null, details: null };
  } finally {
    clearTimeout(timer);
    // Leave no session behind at the upstream (one per check would pile up there).
    if (transport.sessionId) await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  }
}
