// The gateway on Node's own HTTP server (scripts/serve.ts → lib/gateway/serve-node-request.ts),
// the way `npm start` serves it: real sockets on both sides, the relay's Node HTTP client to the
// upstream (lib/gateway/upstream-http.ts), and answers written straight to the socket. The same
// behaviour the route-handler tests check through web Requests must hold here: answers in the
// upstream's form, upstream failures as JSON-RPC errors with their audit event, the gateway's
// timeout, the upstream call closed when the agent goes away, and the body limit.
import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { systemActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { HANDLE_TOKEN_PATTERN } from "@/lib/gateway/handle-token";
import { gatewaySlugOf, serveGatewayRequest } from "@/lib/gateway/serve-node-request";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { actorFor, createPrincipal } from "../factories/principals";
import { setUpEnv, setUpTestSecrets } from "./support/env";
import { createAgent, createTask, registerServer, startDemoServer, type TAgent } from "./support/gateway";
import { setUpOwnDatabase } from "./support/own-database";

setUpOwnDatabase();
setUpTestSecrets();
const TIMEOUT_MS = 1_500;
const MAX_BODY = 4_096;
setUpEnv(() => ({ TETHER_GATEWAY_UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), TETHER_GATEWAY_MAX_BODY_BYTES: String(MAX_BODY) }));

/** A hand-written upstream: initialize, then tools/call answers chosen by the tool's name. */
function startScriptedUpstream() {
  const hanging: Array<{ closed: Promise<void> }> = [];
  /** Streams that answered and stay open until released (a server that closes late). */
  const lingering: Array<() => void> = [];
  let connections = 0;
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const message = JSON.parse(Buffer.concat(chunks).toString() || "{}") as { id?: unknown; method?: string; params?: { name?: string } };
      if (message.method?.startsWith("notifications/")) return void res.writeHead(202).end();
      if (message.method === "initialize") {
        res.writeHead(200, { "content-type": "application/json", "mcp-session-id": "scripted-session-0001" });
        return void res.end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "scripted", version: "0" } } }));
      }
      const answer = (text: string) => JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { content: [{ type: "text", text }] } });
      switch (message.params?.name) {
        case "json":
          res.writeHead(200, { "content-type": "application/json" });
          return void res.end(answer("as JSON"));
        case "sse": {
          // A progress notification first, then the answer in two writes split inside the event.
          res.writeHead(200, { "content-type": "text/event-stream" });
          res.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "working" } })}\n\n`);
          const event = `event: message\nid: e-2\ndata: ${answer("as SSE")}\n\n`;
          res.write(event.slice(0, 20));
          return void setTimeout(() => res.end(event.slice(20)), 50);
        }
        case "linger":
          res.writeHead(200, { "content-type": "text/event-stream" });
          res.write(`event: message\ndata: ${answer("answered, still open")}\n\n`);
          return void lingering.push(() => res.end());
        case "hang":
          hanging.push({ closed: new Promise((resolve) => res.once("close", () => resolve())) });
          return void res.writeHead(200, { "content-type": "text/event-stream" }).flushHeaders();
        default:
          res.writeHead(200, { "content-type": "application/json" });
          return void res.end(JSON.stringify({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "no such tool" } }));
      }
    });
  });
  server.on("connection", () => connections++);
  return { server, hanging, lingering, connections: () => connections };
}

const listen = (server: http.Server) => new Promise<string>((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
const close = (server: http.Server) => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
};

let gateway: http.Server;
let gatewayUrl: string;
let demo: Awaited<ReturnType<typeof startDemoServer>>;
let demoServer: { id: string; slug: string };
let scripted: ReturnType<typeof startScriptedUpstream>;
let scriptedServer: { id: string; slug: string };
let agent: TAgent;

beforeAll(async () => {
  await ensureDefaultPolicy(getPrisma(), systemActor("test", `node-server-test-${randomUUID()}`));
  gateway = http.createServer((req, res) => {
    const slug = gatewaySlugOf(req.url);
    if (slug === null) return void res.writeHead(404).end();
    void serveGatewayRequest(req, res, slug);
  });
  gatewayUrl = await listen(gateway);
  demo = await startDemoServer();
  demoServer = await registerServer({ url: demo.url, bearerToken: demo.bearerToken });
  scripted = startScriptedUpstream();
  scriptedServer = await registerServer({ url: `${await listen(scripted.server)}/mcp` });
  agent = await createAgent(actorFor(await createPrincipal(getPrisma(), { role: "admin" })));
}, 30_000);

afterAll(async () => {
  await close(gateway);
  await close(scripted.server);
  await demo.close();
});

function post(slug: string, body: unknown, sessionId?: string): Promise<Response> {
  return fetch(`${gatewayUrl}/mcp/${slug}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${agent.apiKey}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(sessionId ? { "mcp-session-id": sessionId } : {}),
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function openSession(slug: string): Promise<string> {
  const res = await post(slug, { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "node-server-test", version: "0" } } });
  expect(res.status).toBe(200);
  await res.text();
  return res.headers.get("mcp-session-id")!;
}

const callTool = (slug: string, sessionId: string, name: string, id = 7) => post(slug, { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: {} } }, sessionId);

describe("the gateway on Node's HTTP server", () => {
  it("serves a task's whole life to an SDK client: a tool call, a minted handle, tasks/get and tasks/result", async () => {
    const client = new Client({ name: "node-server-test", version: "0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gatewayUrl}/mcp/${demoServer.slug}`), { requestInit: { headers: { Authorization: `Bearer ${agent.apiKey}` } } }));
    try {
      const echo = await client.callTool({ name: "echo", arguments: { text: "over Node's server" } }, CallToolResultSchema);
      expect(JSON.stringify(echo.content)).toContain("over Node's server");
      const task = await createTask(client, "long_task", { seconds: 0.3, label: "x" }, { ttl: 120_000 });
      expect(task.taskId).toMatch(HANDLE_TOKEN_PATTERN);
      const polled = await client.experimental.tasks.getTask(task.taskId);
      expect(polled.taskId).toBe(task.taskId);
      const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
      expect(JSON.stringify(result.content)).toContain("x");
    } finally {
      await client.close();
    }
  });

  it("answers a JSON answer as JSON with its length, and an SSE answer event by event in order", async () => {
    const sessionId = await openSession(scriptedServer.slug);
    const json = await callTool(scriptedServer.slug, sessionId, "json");
    expect(json.status).toBe(200);
    expect(json.headers.get("content-type")).toBe("application/json");
    expect(json.headers.get("mcp-session-id")).toBe(sessionId);
    const jsonText = await json.text();
    expect(json.headers.get("content-length")).toBe(String(Buffer.byteLength(jsonText)));
    expect(JSON.parse(jsonText)).toMatchObject({ id: 7, result: { content: [{ text: "as JSON" }] } });

    const sse = await callTool(scriptedServer.slug, sessionId, "sse", 8);
    expect(sse.status).toBe(200);
    expect(sse.headers.get("content-type")).toBe("text/event-stream");
    const events = (await sse.text()).split("\n\n").filter(Boolean);
    expect(events).toHaveLength(2);
    expect(events[0]).toContain('"notifications/message"');
    expect(events[1]).toMatch(/^event: message\nid: e-2\ndata: /);
    expect(JSON.parse(events[1]!.split("data: ")[1]!)).toMatchObject({ id: 8, result: { content: [{ text: "as SSE" }] } });
  });

  it("ends the agent's stream with the answer, and reads the rest of a stream the upstream closes late so its connection is kept", async () => {
    const sessionId = await openSession(scriptedServer.slug);
    await (await callTool(scriptedServer.slug, sessionId, "json", 20)).text();
    const connections = scripted.connections();
    const res = await callTool(scriptedServer.slug, sessionId, "linger", 21);
    // The whole answer arrives while the upstream's stream is still open.
    const events = (await res.text()).split("\n\n").filter(Boolean);
    expect(scripted.lingering).toHaveLength(1);
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.split("data: ")[1]!)).toMatchObject({ id: 21, result: { content: [{ text: "answered, still open" }] } });
    scripted.lingering.shift()!();
    await new Promise((r) => setTimeout(r, 50));
    await (await callTool(scriptedServer.slug, sessionId, "json", 22)).text();
    expect(scripted.connections()).toBe(connections);
  });

  it("answers an upstream that does not answer in time with a JSON-RPC error, audited", async () => {
    const sessionId = await openSession(scriptedServer.slug);
    const res = await callTool(scriptedServer.slug, sessionId, "hang", 9);
    const events = (await res.text()).split("\n\n").filter(Boolean);
    expect(JSON.parse(events.at(-1)!.split("data: ")[1]!)).toMatchObject({ id: 9, error: { message: "The upstream server failed while answering." } });
    await scripted.hanging.at(-1)!.closed; // the upstream call was closed, not left open
    const audited = await getPrisma().auditEvent.findFirst({ where: { action: "gateway.upstream_error", targetId: scriptedServer.id }, orderBy: { id: "desc" } });
    expect(audited?.payload).toMatchObject({ detail: "The upstream server did not answer in time." });
  });

  it("closes the upstream call when the agent goes away before the answer", async () => {
    const sessionId = await openSession(scriptedServer.slug);
    const before = scripted.hanging.length;
    const url = new URL(`${gatewayUrl}/mcp/${scriptedServer.slug}`);
    const body = JSON.stringify({ jsonrpc: "2.0", id: 10, method: "tools/call", params: { name: "hang", arguments: {} } });
    const req = http.request(url, {
      method: "POST",
      headers: { authorization: `Bearer ${agent.apiKey}`, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": sessionId },
    });
    req.on("error", () => undefined);
    req.end(body);
    while (scripted.hanging.length === before) await new Promise((r) => setTimeout(r, 10));
    req.destroy();
    await scripted.hanging.at(-1)!.closed;
  });

  it("refuses a body beyond the limit with 413", async () => {
    const sessionId = await openSession(scriptedServer.slug);
    const res = await post(scriptedServer.slug, JSON.stringify({ jsonrpc: "2.0", id: 11, method: "tools/call", params: { name: "json", arguments: { pad: "x".repeat(MAX_BODY) } } }), sessionId);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { message: expect.stringContaining("Payload Too Large") } });
  });

  it("answers an unreachable upstream with a JSON-RPC error, audited", async () => {
    const gone = startScriptedUpstream();
    const goneServer = await registerServer({ url: `${await listen(gone.server)}/mcp` });
    const sessionId = await openSession(goneServer.slug);
    await close(gone.server);
    const res = await callTool(goneServer.slug, sessionId, "json", 12);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 12, error: { message: "The upstream server is unreachable." } });
    const audited = await getPrisma().auditEvent.findFirst({ where: { action: "gateway.upstream_error", targetId: goneServer.id } });
    expect(audited?.payload).toMatchObject({ detail: "The upstream server is unreachable." });
  });
});
