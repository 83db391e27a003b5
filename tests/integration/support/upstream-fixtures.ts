// Tiny upstreams for the registry's connection check, each failing (or not) in one exact way:
// a plain web server, one that refuses every request with 401, one that accepts connections and
// never answers, and a real MCP server (official SDK, stateless Streamable HTTP) with or
// without the tasks capability that counts the `initialize` requests it gets and can be stopped
// and started again on the same port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";

export type TFixture = { url: string; port: number; close(): Promise<void> };

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/** A free port with nothing listening on it (connection refused). */
export async function unusedPort(): Promise<number> {
  const { server, port } = await listen(() => undefined);
  await closer(server)();
  return port;
}

/** An ordinary web page at every path. */
export async function startPlainHttpServer(): Promise<TFixture> {
  const { server, port } = await listen((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<!doctype html><title>Not MCP</title><p>Hello</p>");
  });
  return { url: `http://127.0.0.1:${port}/mcp`, port, close: closer(server) };
}

/** Refuses every request as unauthenticated, whatever it carries. */
export async function startUnauthorizedServer(): Promise<TFixture> {
  const { server, port } = await listen((_req, res) => {
    res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Bearer realm="fixture"' });
    res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "Unauthorized" } }));
  });
  return { url: `http://127.0.0.1:${port}/mcp`, port, close: closer(server) };
}

/** Accepts connections and requests and never answers. */
export async function startSilentServer(): Promise<TFixture> {
  const { server, port } = await listen(() => undefined);
  return { url: `http://127.0.0.1:${port}/mcp`, port, close: closer(server) };
}

export type TMcpFixture = TFixture & {
  /** `initialize` requests received since start (across restarts). */
  initializeCount(): number;
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Answers `initialize` only after this many milliseconds. */
  setDelay(ms: number): void;
};

/** A real MCP server with one plain tool; with `tasks`, it declares the 2025-11-25 tasks capability. */
export async function startMcpFixture(options: { tasks: boolean; bearerToken?: string }): Promise<TMcpFixture> {
  let initializes = 0;
  let delayMs = 0;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      if (options.bearerToken && req.headers.authorization !== `Bearer ${options.bearerToken}`) {
        res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "Unauthorized" } }));
        return;
      }
      if (req.method !== "POST") {
        res.writeHead(405, { allow: "POST" }).end();
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { method?: string };
      if (body.method === "initialize") initializes += 1;
      if (delayMs > 0 && body.method === "initialize") await new Promise((r) => setTimeout(r, delayMs));
      const server = new McpServer(
        { name: options.tasks ? "fixture-tasks" : "fixture-plain", version: "1.2.3" },
        { capabilities: options.tasks ? { tools: {}, tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } } : { tools: {} } },
      );
      server.registerTool("hello", { description: "Says hello." }, async () => ({ content: [{ type: "text", text: "hello" }] }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on("close", () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
  let { server, port } = await listen(handler);
  let running = true;
  const stop = async () => {
    if (!running) return;
    running = false;
    await closer(server)();
  };
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    initializeCount: () => initializes,
    setDelay: (ms) => {
      delayMs = ms;
    },
    stop,
    async start() {
      if (running) return;
      ({ server, port } = await listen(handler, port));
      running = true;
    },
    close: stop,
  };
}
