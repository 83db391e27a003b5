// A bare MCP Streamable HTTP client for benchmarks: one keep-alive `node:http` agent, JSON-RPC
// messages in, the answer's messages out (a JSON body or an SSE stream read to its end). No SDK:
// its per-call work (schema parsing, request tracking) would add client time to both sides of a
// comparison and blur the difference being measured.
import http from "node:http";

export type TJson = Record<string, unknown>;

/**
 * Where an agent sends its messages and how it authenticates (the gateway's API key, or the
 * upstream's own token). With `handler`, messages go to that function in this process instead of
 * over HTTP (the gateway's route handler, for profiling it without Next around it).
 */
export type TMcpEndpoint = { url: URL; authorization: string; handler?: (request: Request) => Promise<Response> };

export type TMcpSession = {
  endpoint: TMcpEndpoint;
  sessionId: string;
  protocolVersion: string;
  /** The task this agent polls: a gateway token (`tht_…`) or the upstream's own id. */
  taskId: string;
  /** Set when the agent is an official SDK client (bench --client sdk) rather than bare HTTP. */
  sdk?: import("@modelcontextprotocol/sdk/client/index.js").Client;
};

export type TMcpAnswer = { status: number; sessionId: string | null; messages: TJson[] };

const PROTOCOL_VERSION = "2025-11-25";

// Every request of every agent shares this pool: one socket per concurrent request, kept open,
// so no run pays for TCP handshakes after its first round.
export const keepAliveAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256, scheduling: "lifo" });

let nextId = 1;

/** The JSON-RPC messages of an answer body: one JSON document, or the `data:` of an SSE stream's events. */
export function parseBody(contentType: string, body: string): TJson[] {
  if (!body) return [];
  if (contentType.startsWith("application/json")) return [JSON.parse(body) as TJson];
  // text/event-stream: `data:` lines of `message` events; a priming event has empty data.
  const messages: TJson[] = [];
  for (const line of body.split("\n")) {
    if (line.startsWith("data:")) {
      const data = line.slice(5).trim();
      if (data) messages.push(JSON.parse(data) as TJson);
    }
  }
  return messages;
}

/** POSTs one JSON-RPC message and reads the whole answer. */
export function postMessage(endpoint: TMcpEndpoint, message: TJson, session?: { sessionId: string; protocolVersion: string }): Promise<TMcpAnswer> {
  const body = JSON.stringify(message);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    authorization: endpoint.authorization,
    "content-length": String(Buffer.byteLength(body)),
  };
  if (session) {
    headers["mcp-session-id"] = session.sessionId;
    headers["mcp-protocol-version"] = session.protocolVersion;
  }
  if (endpoint.handler) return postInProcess(endpoint.handler, new Request(endpoint.url, { method: "POST", headers, body }));
  return new Promise((resolve, reject) => {
    const req = http.request(endpoint.url, { method: "POST", agent: keepAliveAgent, headers }, (res) => {
      res.setEncoding("utf8");
      let text = "";
      res.on("data", (chunk: string) => (text += chunk));
      res.on("error", reject);
      res.on("end", () => {
        try {
          const header = res.headers["mcp-session-id"];
          resolve({ status: res.statusCode ?? 0, sessionId: typeof header === "string" ? header : null, messages: parseBody(res.headers["content-type"] ?? "", text) });
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function postInProcess(handler: (request: Request) => Promise<Response>, request: Request): Promise<TMcpAnswer> {
  const response = await handler(request);
  const text = await response.text();
  return { status: response.status, sessionId: response.headers.get("mcp-session-id"), messages: parseBody(response.headers.get("content-type") ?? "", text) };
}

/** The answer to request `id` in an exchange, or an error carrying what came back instead. */
function answerTo(answer: TMcpAnswer, id: number, what: string): TJson {
  const message = answer.messages.find((m) => m.id === id && !("method" in m));
  if (!message || !("result" in message)) {
    throw new Error(`${what}: HTTP ${answer.status}, ${JSON.stringify(message?.error ?? answer.messages).slice(0, 300)}`);
  }
  return message.result as TJson;
}

/** initialize + notifications/initialized: what any MCP client does once per session. */
export async function openSession(endpoint: TMcpEndpoint): Promise<{ sessionId: string; protocolVersion: string }> {
  const id = nextId++;
  const answer = await postMessage(endpoint, {
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "tether-bench-gateway", version: "0.0.0" } },
  });
  const result = answerTo(answer, id, "initialize");
  if (!answer.sessionId) throw new Error("initialize: no Mcp-Session-Id in the answer");
  const session = { sessionId: answer.sessionId, protocolVersion: typeof result.protocolVersion === "string" ? result.protocolVersion : PROTOCOL_VERSION };
  const initialized = await postMessage(endpoint, { jsonrpc: "2.0", method: "notifications/initialized" }, session);
  if (initialized.status !== 202) throw new Error(`notifications/initialized: HTTP ${initialized.status}`);
  return session;
}

/** A task-augmented tools/call; returns the task id the caller is given (a handle token through the gateway). */
export async function createTask(endpoint: TMcpEndpoint, session: { sessionId: string; protocolVersion: string }, tool: string, args: TJson, ttlMs: number): Promise<string> {
  const id = nextId++;
  const answer = await postMessage(endpoint, { jsonrpc: "2.0", id, method: "tools/call", params: { name: tool, arguments: args, task: { ttl: ttlMs } } }, session);
  const task = answerTo(answer, id, `tools/call ${tool}`).task as TJson | undefined;
  if (typeof task?.taskId !== "string") throw new Error(`tools/call ${tool}: no task in the answer`);
  return task.taskId;
}

/** One tasks/get; throws unless the answer is a task (a refusal is a failed request, not a sample). */
export async function getTask(session: TMcpSession): Promise<string> {
  const id = nextId++;
  const answer = await postMessage(session.endpoint, { jsonrpc: "2.0", id, method: "tasks/get", params: { taskId: session.taskId } }, session);
  const result = answerTo(answer, id, "tasks/get");
  if (result.taskId !== session.taskId || typeof result.status !== "string") throw new Error(`tasks/get: unexpected result ${JSON.stringify(result).slice(0, 200)}`);
  return result.status;
}

/** A plain GET on the same sockets, for a route's floor (the console's /api/health); resolves to the status. */
export function getStatus(url: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: keepAliveAgent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}
