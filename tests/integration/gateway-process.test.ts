// The gateway in its own process, as `npm start` runs it (scripts/serve.ts): a front listener
// routes each new connection by its first request line (lib/startup/route-connection.ts), agents'
// connections are handed to a real forked gateway process (scripts/gateway-server.ts, bundled by
// lib/startup/build-gateway-bundle.ts and run by plain Node, as serve.ts runs it),
// and everything else goes to the console server, here a plain Node server standing in for
// Next.js that also serves /mcp itself, as the real one does, and counts when it has to. Checked:
// an official SDK client's whole task life through the child; a request trickling in byte by
// byte; a console request on an agent's connection passed back; a revocation committed here in
// force at the child's very next call (the IPC settle); the child's counters; a killed child
// (this process serves until it is back).
import { randomUUID } from "node:crypto";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { systemActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { registerGatewayPeer } from "@/lib/gateway/gateway-peer";
import { HANDLE_TOKEN_PATTERN } from "@/lib/gateway/handle-token";
import { gatewaySlugOf } from "@/lib/gateway/serve-node-request";
import { revokeHandle } from "@/lib/handles/revoke-handle";
import { renderMetrics } from "@/lib/metrics/render-metrics";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { buildGatewayBundle, gatewayExecArgv } from "@/lib/startup/build-gateway-bundle";
import { createConsoleRequestHandler } from "@/lib/startup/console-request-handler";
import { createFrontServer } from "@/lib/startup/front-server";
import { GatewayProcess } from "@/lib/startup/gateway-process";
import { classifyRequestHead } from "@/lib/startup/route-connection";
import { actorFor, createPrincipal } from "../factories/principals";
import { setUpTestSecrets } from "./support/env";
import { createAgent, createTask, registerServer, startDemoServer, type TAgent } from "./support/gateway";
import { setUpOwnDatabase } from "./support/own-database";

setUpOwnDatabase();
setUpTestSecrets();

const root = path.resolve(__dirname, "..", "..");
const listen = (server: net.Server, host = "127.0.0.1") => new Promise<number>((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port)));

let consoleServer: http.Server;
let front: net.Server;
let gateway: GatewayProcess;
let baseUrl: string;
let demo: Awaited<ReturnType<typeof startDemoServer>>;
let demoServer: { id: string; slug: string };
let agent: TAgent;
let admin: ReturnType<typeof actorFor>;
/** /mcp requests the console server had to serve itself (the child was not up). */
let servedByConsole = 0;
const logged: string[] = [];

beforeAll(async () => {
  await ensureDefaultPolicy(getPrisma(), systemActor("test", `gateway-process-test-${randomUUID()}`));
  demo = await startDemoServer();
  demoServer = await registerServer({ url: demo.url, bearerToken: demo.bearerToken });
  admin = actorFor(await createPrincipal(getPrisma(), { role: "admin" }));
  agent = await createAgent(admin);

  // serve.ts's own request handler, with a stand-in for Next that echoes what it was given.
  let internalPort: number | null = null;
  const handler = createConsoleRequestHandler({
    trustedProxyHops: 0,
    internalPort: () => internalPort,
    next: async (req, res) => {
      const body = JSON.stringify({ console: true, path: req.url, forwardedFor: req.headers["x-forwarded-for"] ?? null, realIp: req.headers["x-real-ip"] ?? null });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
    },
  });
  consoleServer = http.createServer((req, res) => {
    if (gatewaySlugOf(req.url) !== null) servedByConsole++;
    handler(req, res);
  });
  internalPort = await listen(consoleServer);
  // The production path: scripts/gateway-server.ts bundled and run by plain Node.
  const bundle = await buildGatewayBundle(root);
  gateway = new GatewayProcess({
    script: bundle,
    execArgv: gatewayExecArgv(["--conditions=react-server", "--import", "tsx", "--inspect=9999"], true),
    env: process.env,
    consoleUrl: `http://127.0.0.1:${internalPort}`,
    log: (line) => logged.push(line),
  });
  gateway.start();
  registerGatewayPeer(gateway);
  front = createFrontServer(consoleServer, gateway, 2_000);
  baseUrl = `http://127.0.0.1:${await listen(front)}`;
  expect(await gateway.whenReady(60_000)).toBe(true);
}, 90_000);

afterAll(async () => {
  registerGatewayPeer(null);
  await gateway?.stop();
  front?.close();
  consoleServer?.closeAllConnections();
  consoleServer?.close();
  await demo?.close();
});

async function sdkClient(): Promise<Client> {
  const client = new Client({ name: "gateway-process-test", version: "0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp/${demoServer.slug}`), { requestInit: { headers: { Authorization: `Bearer ${agent.apiKey}` } } }));
  return client;
}

/** One raw HTTP/1.1 exchange after another on a single connection; `write` may trickle the bytes. */
function rawConnection() {
  const socket = net.connect(Number(new URL(baseUrl).port), "127.0.0.1");
  let buffer = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => (buffer += chunk));
  const readResponse = async (): Promise<{ status: number; headers: string; body: string }> => {
    for (let waited = 0; waited < 10_000; waited += 10) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end >= 0) {
        const headers = buffer.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(headers)?.[1] ?? NaN);
        if (Number.isFinite(length) && buffer.length >= end + 4 + length) {
          const body = buffer.slice(end + 4, end + 4 + length);
          buffer = buffer.slice(end + 4 + length);
          return { status: Number(headers.split(" ")[1]), headers, body };
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no complete response; have: ${buffer.slice(0, 200)}`);
  };
  return { socket, readResponse };
}

const mcpPost = (slug: string, body: string, extra = "") =>
  `POST /mcp/${slug} HTTP/1.1\r\nHost: tether.test\r\nAuthorization: Bearer ${agent.apiKey}\r\nContent-Type: application/json\r\n` +
  `Accept: application/json, text/event-stream\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

const initialize = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "0" } } });

describe("the gateway process's Node flags", () => {
  it("keeps the console server's own, drops a debugger's port, and drops tsx for the bundle", () => {
    const parent = ["--conditions=react-server", "--import", "tsx", "--cpu-prof", "--inspect=9229"];
    expect(gatewayExecArgv(parent, true)).toEqual(["--conditions=react-server", "--cpu-prof"]);
    expect(gatewayExecArgv(parent, false)).toEqual(["--conditions=react-server", "--import", "tsx", "--cpu-prof"]);
  });
});

describe("routing a connection by its first request line", () => {
  it.each([
    ["POST /mcp/demo HTTP/1.1\r\n", "gateway"],
    ["GET /mcp/demo HTTP/1.1\r\n", "gateway"],
    ["DELETE /mcp/x", "gateway"],
    ["POST /mc", null],
    ["DELE", null],
    ["GET /api/health HTTP/1.1\r\n", "console"],
    ["POST /mcpx/demo", "console"],
    ["PUT /mcp/demo HTTP/1.1", "console"],
    ["GET / HTTP/1.1\r\n\r\n", "console"],
    ["\u0016\u0003\u0001", "console"],
  ])("%j → %s", (head, route) => {
    expect(classifyRequestHead(Buffer.from(head, "latin1"))).toBe(route);
  });
});

describe("the gateway in its own process", () => {
  it("serves an official SDK client's task from start to result, without the console process", async () => {
    const before = servedByConsole;
    const client = await sdkClient();
    try {
      const echo = await client.callTool({ name: "echo", arguments: { text: "through the gateway process" } }, CallToolResultSchema);
      expect(JSON.stringify(echo.content)).toContain("through the gateway process");
      const task = await createTask(client, "long_task", { seconds: 0.3, label: "child" }, { ttl: 120_000 });
      expect(task.taskId).toMatch(HANDLE_TOKEN_PATTERN);
      expect((await client.experimental.tasks.getTask(task.taskId)).taskId).toBe(task.taskId);
      const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
      expect(JSON.stringify(result.content)).toContain("child");
    } finally {
      await client.close();
    }
    expect(servedByConsole).toBe(before);
    expect(await getPrisma().handle.count({ where: { principalId: agent.principalId } })).toBeGreaterThan(0);
  });

  it("reads a request that trickles in a byte at a time, and keeps the bytes it read to decide", async () => {
    const before = servedByConsole;
    const { socket, readResponse } = rawConnection();
    try {
      const request = mcpPost(demoServer.slug, initialize);
      for (const byte of request.slice(0, 40)) {
        socket.write(byte);
        await new Promise((r) => setTimeout(r, 2));
      }
      socket.write(request.slice(40));
      const answer = await readResponse();
      expect(answer.status).toBe(200);
      expect(answer.headers.toLowerCase()).toContain("mcp-session-id:");
      expect(JSON.parse(answer.body)).toMatchObject({ id: 1, result: { serverInfo: expect.any(Object) } });
    } finally {
      socket.destroy();
    }
    expect(servedByConsole).toBe(before);
  });

  it("passes a console request on an agent's connection back to the console, with the agent's real address, not a forged one", async () => {
    const { socket, readResponse } = rawConnection();
    try {
      socket.write(mcpPost(demoServer.slug, initialize));
      expect((await readResponse()).status).toBe(200);
      socket.write("GET /.well-known/oauth-protected-resource/mcp/x HTTP/1.1\r\nHost: tether.test\r\nX-Forwarded-For: 203.0.113.9\r\nX-Real-IP: 203.0.113.10\r\n\r\n");
      const answer = await readResponse();
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ console: true, path: "/.well-known/oauth-protected-resource/mcp/x", forwardedFor: "127.0.0.1", realIp: null });
    } finally {
      socket.destroy();
    }
  });

  it("records the agent's real address in the audit trail, whichever process serves it, whatever X-Forwarded-For claims", async () => {
    const forged = "X-Forwarded-For: 203.0.113.9\r\nX-Real-IP: 203.0.113.10\r\n";
    const before = await getPrisma().auditEvent.count({ where: { ip: { in: ["203.0.113.9", "203.0.113.10"] } } });
    const { socket, readResponse } = rawConnection();
    try {
      socket.write(mcpPost(demoServer.slug, initialize, forged));
      const answer = await readResponse();
      expect(answer.status).toBe(200);
      const sessionId = /mcp-session-id: (\S+)/i.exec(answer.headers)![1]!;
      // A refused task call is audited (handle.denied) with the address it came from.
      socket.write(mcpPost(demoServer.slug, JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tasks/get", params: { taskId: `tht_${"x".repeat(43)}` } }), `${forged}Mcp-Session-Id: ${sessionId}\r\n`));
      expect((await readResponse()).status).toBe(200);
    } finally {
      socket.destroy();
    }
    const denial = await getPrisma().auditEvent.findFirst({ where: { action: "handle.denied", actorId: agent.principalId }, orderBy: { occurredAt: "desc" } });
    expect(denial?.ip).toBe("127.0.0.1");
    expect(await getPrisma().auditEvent.count({ where: { ip: { in: ["203.0.113.9", "203.0.113.10"] } } })).toBe(before);
  });

  it("refuses a handle at the child's very next call after a revocation committed in this process (the settle reaches the child)", async () => {
    const client = await sdkClient();
    try {
      const task = await createTask(client, "long_task", { seconds: 30, label: "to revoke" }, { ttl: 120_000 });
      // Polled twice: the second answer comes from the child's cache.
      await client.experimental.tasks.getTask(task.taskId);
      await client.experimental.tasks.getTask(task.taskId);
      const handle = await getPrisma().handle.findFirstOrThrow({ where: { principalId: agent.principalId }, orderBy: { createdAt: "desc" } });
      expect(await gateway.settleConfirmed()).toBe(true);
      await revokeHandle({ actor: admin, data: { accessor: handle.accessor, reason: "gateway process test" } });
      await expect(client.experimental.tasks.getTask(task.taskId)).rejects.toThrow(/Task not found/);
      const denial = await getPrisma().auditEvent.findFirst({ where: { action: "handle.denied", targetId: handle.id } });
      expect(denial?.payload).toMatchObject({ cause: "revoked" });
    } finally {
      await client.close();
    }
  });

  it("reports the child's counters, and /api/metrics includes them", async () => {
    const json = (await gateway.metricsJson()) as Array<{ name: string; values: Array<{ value: number; labels: Record<string, string> }> }>;
    const requests = json.find((m) => m.name === "tether_gateway_requests_total");
    const polls = requests?.values.find((v) => v.labels.method === "tasks/get")?.value ?? 0;
    expect(polls).toBeGreaterThanOrEqual(3);
    // /api/metrics (renderMetrics) sums them with this process's own, which served no poll here.
    const { body } = await renderMetrics({ actor: admin });
    const exposed = Number(/^tether_gateway_requests_total\{method="tasks\/get"\} (\d+)$/m.exec(body)?.[1] ?? NaN);
    expect(exposed).toBeGreaterThanOrEqual(polls);
  });

  it("serves /mcp in this process while a killed child is restarted, then hands connections to the new one", async () => {
    const killed = gateway.pid!;
    process.kill(killed, "SIGKILL");
    while (gateway.ready) await new Promise((r) => setTimeout(r, 10));
    const before = servedByConsole;
    const { socket, readResponse } = rawConnection();
    try {
      socket.write(mcpPost(demoServer.slug, initialize));
      expect((await readResponse()).status).toBe(200);
    } finally {
      socket.destroy();
    }
    expect(servedByConsole).toBe(before + 1);
    expect(logged.join("\n")).toContain("The gateway process exited (SIGKILL)");

    expect(await gateway.whenReady(60_000)).toBe(true);
    expect(gateway.pid).not.toBe(killed);
    const client = await sdkClient();
    try {
      await client.callTool({ name: "echo", arguments: { text: "after the restart" } }, CallToolResultSchema);
    } finally {
      await client.close();
    }
    expect(servedByConsole).toBe(before + 1);
  }, 90_000);
});
