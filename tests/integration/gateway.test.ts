// The MCP gateway end to end with real parts: official SDK clients as agents, Tether's demo server
// and the official reference server (server-everything) as upstreams, the run's Postgres. An agent
// must be able to use upstream tasks through Tether exactly as it would directly, while the token
// it holds works only for it, in its session, at this server, while the handle lives.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallToolResultSchema, ErrorCode, McpError, RELATED_TASK_META_KEY, type GetTaskResult } from "@modelcontextprotocol/sdk/types.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { systemActor } from "@/lib/auth/actor";
import { decryptSecret } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { HANDLE_TOKEN_PATTERN, handleTokenHash, upstreamTaskContext } from "@/lib/gateway/handle-token";
import { flushHandleUses } from "@/lib/gateway/handle-use-buffer";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { actorFor, createPrincipal } from "../factories/principals";
import { setUpTestSecrets } from "./support/env";
import {
  captureLogs,
  connectAgent,
  createAgent,
  createTask,
  gatewayFetch,
  registerServer,
  startDemoServer,
  startEverythingServer,
  type TAgent,
  type TConnectedAgent,
  type TEverythingServer,
} from "./support/gateway";
import { setUpOwnDatabase } from "./support/own-database";

setUpOwnDatabase();
setUpTestSecrets();

let demo: Awaited<ReturnType<typeof startDemoServer>>;
let everything: TEverythingServer;
let demoServer: { id: string; slug: string };
let everythingServer: { id: string; slug: string };
let alice: TAgent;
let bob: TAgent;
const open: TConnectedAgent[] = [];
let logs: ReturnType<typeof captureLogs>;

async function connect(agent: TAgent, slug = demoServer.slug): Promise<Client> {
  const connected = await connectAgent(agent, slug);
  open.push(connected);
  return connected.client;
}

async function waitFor(client: Client, taskId: string, done: (t: GetTaskResult) => boolean, timeoutMs = 10_000): Promise<GetTaskResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await client.experimental.tasks.getTask(taskId);
    if (done(task)) return task;
    if (Date.now() > deadline) throw new Error(`task still ${task.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  logs = captureLogs();
  await ensureDefaultPolicy(getPrisma(), systemActor("test", `gateway-test-${randomUUID()}`));
  [demo, everything] = await Promise.all([startDemoServer(), startEverythingServer()]);
  demoServer = await registerServer({ url: demo.url, bearerToken: demo.bearerToken });
  everythingServer = await registerServer({ url: everything.url });
  const admin = actorFor(await createPrincipal(getPrisma(), { role: "admin" }));
  [alice, bob] = await Promise.all([createAgent(admin, "alice"), createAgent(admin, "bob")]);
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(open.map((c) => c.client.close()));
  await Promise.allSettled([demo?.close(), everything?.close()]);
  logs?.restore();
});

describe("relaying to the demo upstream", () => {
  it("relays initialize, tools/list and a plain tool call faithfully", async () => {
    const client = await connect(alice);
    expect(client.getServerVersion()?.name).toBe("tether-demo-upstream");
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain("long_task");
    const echo = await client.callTool({ name: "echo", arguments: { text: "hello through Tether" } }, CallToolResultSchema);
    expect(echo.content).toEqual([{ type: "text", text: "hello through Tether" }]);
    await client.ping();
  });

  it("mints a handle for a task-augmented call and serves get and result through it", async () => {
    const client = await connect(alice);
    const task = await createTask(client, "long_task", { seconds: 0.3, label: "x" }, { ttl: 120_000 });
    expect(task.taskId).toMatch(HANDLE_TOKEN_PATTERN);
    expect(task.ttl).toBe(120_000);
    const handle = await getPrisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(task.taskId) } });
    const upstreamId = decryptSecret(handle.upstreamTaskIdEnc, upstreamTaskContext(handle.id));
    expect(upstreamId).not.toBe(task.taskId);
    expect(handle).toMatchObject({ principalId: alice.principalId, serverId: demoServer.id, toolName: "long_task", requestedTtlMs: 120_000, effectiveTtlMs: 120_000 });

    const done = await waitFor(client, task.taskId, (t) => t.status === "completed");
    expect(done.taskId).toBe(task.taskId);
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    expect(JSON.stringify(result)).not.toContain(upstreamId);
    expect(result.content[0]).toMatchObject({ type: "text" });

    await flushHandleUses(); // plain polls are counted in memory and written in batches
    const after = await getPrisma().handle.findUniqueOrThrow({ where: { id: handle.id } });
    expect(after.status).toBe("completed");
    expect(after.useCount).toBeGreaterThan(1);
    const actions = (await getPrisma().auditEvent.findMany({ where: { targetId: handle.id }, orderBy: { seq: "asc" } })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["handle.issued", "handle.status_changed", "handle.result_fetched"]));
  });

  it("refuses a stolen token exactly like an unknown task", async () => {
    const aliceClient = await connect(alice);
    const bobClient = await connect(bob);
    const task = await createTask(aliceClient, "long_task", { seconds: 5 });
    const stolen = await bobClient.experimental.tasks.getTask(task.taskId).catch((e: unknown) => e);
    const unknown = await bobClient.experimental.tasks.getTask(`tht_${"A".repeat(43)}`).catch((e: unknown) => e);
    expect(stolen).toBeInstanceOf(McpError);
    expect((stolen as McpError).code).toBe(ErrorCode.InvalidParams);
    expect((stolen as McpError).message).toBe((unknown as McpError).message);
    const denial = await getPrisma().auditEvent.findFirst({ where: { action: "handle.denied", actorId: bob.principalId }, orderBy: { seq: "desc" } });
    expect(denial?.payload).toMatchObject({ operation: "tasks/get" });
  });
});

describe("task messages both ways", () => {
  it("delivers an input_required task's elicitation with the token as related task, and the answer reaches the upstream", async () => {
    const asked: unknown[] = [];
    const connected = await connectAgent(alice, demoServer.slug, (request) => {
      asked.push(request.params._meta?.[RELATED_TASK_META_KEY]);
      return { action: "accept", content: { answer: "forty-two" } };
    });
    open.push(connected);
    const client = connected.client;
    const task = await createTask(client, "input_task", { question: "What is the answer?" });
    const waiting = await waitFor(client, task.taskId, (t) => t.status !== "working");
    expect(waiting).toMatchObject({ status: "input_required", statusMessage: "waiting for an answer to: What is the answer?" });
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    expect(result.content[0]).toMatchObject({ text: "Answer: forty-two" });
    expect(asked).toEqual([{ taskId: task.taskId }]);
    expect(result._meta?.[RELATED_TASK_META_KEY]).toEqual({ taskId: task.taskId });
    const handle = await getPrisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(task.taskId) } });
    const transitions = await getPrisma().auditEvent.findMany({ where: { targetId: handle.id, action: "handle.status_changed" }, orderBy: { seq: "asc" } });
    expect(transitions.map((e) => (e.payload as { to: string }).to)).toContain("input_required");
    // The result ended the task; the handle (and tasks/list) know it without another tasks/get.
    expect(handle.status).toBe("completed");
    expect((await client.experimental.tasks.listTasks()).tasks.find((t) => t.taskId === task.taskId)?.status).toBe("completed");
  });

  it("relays the session stream's status notifications under the caller's token, through to the completion of a task announced before its handle was minted", async () => {
    const connected = await connectAgent(alice, demoServer.slug);
    open.push(connected);
    const heard: Array<{ method: string; params?: Record<string, unknown> }> = [];
    connected.client.fallbackNotificationHandler = async (n) => void heard.push(n);
    // The demo upstream announces each status on the session's GET stream, the first one
    // ("working") while its answer to the call, and so the handle, is still on the way.
    const task = await createTask(connected.client, "long_task", { seconds: 1 });
    const handle = await getPrisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(task.taskId) } });
    const upstreamId = decryptSecret(handle.upstreamTaskIdEnc, upstreamTaskContext(handle.id));
    const statuses = () => heard.filter((n) => n.method === "notifications/tasks/status").map((n) => n.params!);
    for (const deadline = Date.now() + 10_000; !statuses().some((p) => p.status === "completed"); ) {
      if (Date.now() > deadline) throw new Error(`no completion notification within 10 s; heard ${JSON.stringify(heard)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(statuses().every((p) => p.taskId === task.taskId)).toBe(true);
    expect(JSON.stringify(heard)).not.toContain(upstreamId);
  });
});

describe("tasks/list", () => {
  it("pages with an opaque cursor that works only for its owner's session", async () => {
    const admin = actorFor(await createPrincipal(getPrisma(), { role: "admin" }));
    const agent = await createAgent(admin);
    const client = await connect(agent);
    const tokens: string[] = [];
    for (let i = 0; i < 52; i++) tokens.push((await createTask(client, "long_task", { seconds: 30 })).taskId);
    const first = await client.experimental.tasks.listTasks();
    expect(first.tasks).toHaveLength(50);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await client.experimental.tasks.listTasks(first.nextCursor);
    expect(second.nextCursor).toBeUndefined();
    expect([...first.tasks, ...second.tasks].map((t) => t.taskId).sort()).toEqual([...tokens].sort());
    // Newest first, each with the TTL Tether enforces.
    expect(first.tasks[0]!.taskId).toBe(tokens.at(-1));
    expect(first.tasks.every((t) => t.ttl === first.tasks[0]!.ttl && t.status === "working")).toBe(true);
    // The cursor is signed for this agent and session: anywhere else it is invalid.
    const elsewhere = await connect(agent);
    const refused = await elsewhere.experimental.tasks.listTasks(first.nextCursor).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(McpError);
    expect((refused as McpError).code).toBe(ErrorCode.InvalidParams);
    const tampered = await client.experimental.tasks.listTasks(`${first.nextCursor!.slice(0, -2)}xx`).catch((e: unknown) => e);
    expect((tampered as McpError).code).toBe(ErrorCode.InvalidParams);
  }, 30_000);
});

describe("upstream failures", () => {
  it("answers an upstream that speaks garbage with a clear error and no handle", async () => {
    const { createServer } = await import("node:http");
    const garbage = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const initialize = req.headers["mcp-session-id"] === undefined;
        res.writeHead(200, { "content-type": "application/json", ...(initialize ? { "mcp-session-id": "garbage-session-0001" } : {}) });
        res.end(initialize ? JSON.stringify({ jsonrpc: "2.0", id: 0, result: { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "garbage", version: "0" } } }) : "{ this is not json");
      });
    });
    await new Promise<void>((resolve) => garbage.listen(0, "127.0.0.1", resolve));
    try {
      const port = (garbage.address() as { port: number }).port;
      const garbageServer = await registerServer({ url: `http://127.0.0.1:${port}/mcp` });
      const before = await getPrisma().handle.count();
      const client = await connect(alice, garbageServer.slug);
      const error = await createTask(client, "anything", {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(McpError);
      expect((error as McpError).message).toContain("The upstream server sent an answer that is not valid JSON-RPC.");
      expect(await getPrisma().handle.count()).toBe(before);
      expect(await getPrisma().auditEvent.count({ where: { action: "gateway.upstream_error", targetId: garbageServer.id } })).toBeGreaterThan(0);
    } finally {
      await new Promise<void>((resolve) => garbage.close(() => resolve()));
    }
  });


  it("never hands out a task id no handle stands for: a flat (2026-07-28 style) task answer is cancelled upstream and refused", async () => {
    const { createServer } = await import("node:http");
    const methods: string[] = [];
    const flat = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const message = JSON.parse(Buffer.concat(chunks).toString() || "{}") as { id?: unknown; method?: string };
        methods.push(message.method ?? "?");
        if (message.method === "notifications/initialized") {
          res.writeHead(202).end();
          return;
        }
        const result =
          message.method === "initialize"
            ? { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "flat", version: "0" } }
            : message.method === "tools/call"
              ? { resultType: "task", taskId: "upstream-task-0001", status: "working", ttlMs: 60000 }
              : { taskId: "upstream-task-0001", status: "cancelled" };
        res.writeHead(200, { "content-type": "application/json", ...(message.method === "initialize" ? { "mcp-session-id": "flat-session-0001" } : {}) });
        res.end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }));
      });
    });
    await new Promise<void>((resolve) => flat.listen(0, "127.0.0.1", resolve));
    try {
      const flatServer = await registerServer({ url: `http://127.0.0.1:${(flat.address() as { port: number }).port}/mcp` });
      const client = await connect(alice, flatServer.slug);
      const answer = await client.request({ method: "tools/call", params: { name: "anything", arguments: {} } }, CallToolResultSchema.passthrough()).catch((e: unknown) => e);
      expect(answer).toBeInstanceOf(McpError);
      expect((answer as McpError).message).toContain("no handle was issued and the task was cancelled");
      expect(JSON.stringify(answer)).not.toContain("upstream-task-0001");
      expect(methods).toContain("tasks/cancel");
    } finally {
      flat.closeAllConnections();
      await new Promise<void>((resolve) => flat.close(() => resolve()));
    }
  });

  it("refuses an oversized upstream answer instead of buffering it", async () => {
    const { createServer } = await import("node:http");
    const huge = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const message = JSON.parse(Buffer.concat(chunks).toString() || "{}") as { id?: unknown; method?: string };
        if (message.method === "notifications/initialized") return void res.writeHead(202).end();
        if (message.method === "initialize") {
          res.writeHead(200, { "content-type": "application/json", "mcp-session-id": "huge-session-0001" });
          return void res.end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "huge", version: "0" } } }));
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { content: [{ type: "text", text: "x".repeat(17 * 1024 * 1024) }] } }));
      });
    });
    await new Promise<void>((resolve) => huge.listen(0, "127.0.0.1", resolve));
    try {
      const hugeServer = await registerServer({ url: `http://127.0.0.1:${(huge.address() as { port: number }).port}/mcp` });
      const client = await connect(alice, hugeServer.slug);
      const error = await client.callTool({ name: "anything", arguments: {} }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(McpError);
      expect((error as McpError).message).toContain("The upstream server sent an answer Tether could not read.");
      const audited = await getPrisma().auditEvent.findFirst({ where: { action: "gateway.upstream_error", targetId: hugeServer.id } });
      expect(audited?.payload).toMatchObject({ detail: "The upstream server sent a message larger than Tether accepts." });
    } finally {
      huge.closeAllConnections();
      await new Promise<void>((resolve) => huge.close(() => resolve()));
    }
  });

  it("drops a task operation sent as a notification (it would carry a token upstream)", async () => {
    const client = await connect(alice);
    const task = await createTask(client, "long_task", { seconds: 5 });
    await client.notification({ method: "tasks/cancel" as "notifications/cancelled", params: { taskId: task.taskId } as never });
    expect((await getPrisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(task.taskId) } })).cancelState).toBe("none");
    expect((await client.experimental.tasks.getTask(task.taskId)).status).toBe("working");
  });

  it("withholds a blocking tasks/result whose handle is revoked while it waits", async () => {
    const client = await connect(alice);
    const task = await createTask(client, "long_task", { seconds: 1.5 });
    const handle = await getPrisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(task.taskId) } });
    const waiting = client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 300));
    await getPrisma().handle.update({ where: { id: handle.id }, data: { revokedAt: new Date(), revokeTrigger: "manual", revokeReason: "test" } });
    const outcome = await waiting;
    expect(outcome).toBeInstanceOf(McpError);
    expect((outcome as McpError).code).toBe(ErrorCode.InvalidParams);
    const denial = await getPrisma().auditEvent.findFirst({ where: { targetId: handle.id, action: "handle.denied" }, orderBy: { seq: "desc" } });
    expect(denial?.payload).toMatchObject({ operation: "tasks/result", cause: "revoked" });
    expect(await getPrisma().auditEvent.count({ where: { targetId: handle.id, action: "handle.result_fetched" } })).toBe(0);
  });

  it("tells the agent clearly when the upstream is down, audits it, and keeps the handle's last state", async () => {
    const flaky = await startDemoServer();
    const flakyServer = await registerServer({ url: flaky.url, bearerToken: flaky.bearerToken });
    const client = await connect(alice, flakyServer.slug);
    const task = await createTask(client, "long_task", { seconds: 30 });
    await flaky.close();
    const error = await client.experimental.tasks.getTask(task.taskId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toContain("The upstream server is unreachable.");
    const handle = await getPrisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(task.taskId) } });
    expect(handle).toMatchObject({ status: "working", revokedAt: null });
    const audited = await getPrisma().auditEvent.findFirst({ where: { action: "gateway.upstream_error", targetId: flakyServer.id }, orderBy: { seq: "desc" } });
    expect(audited?.payload).toMatchObject({ method: "tasks/get", accessor: handle.accessor });
  });

  it("refuses unknown servers and bad credentials at the HTTP level with JSON-RPC bodies", async () => {
    const init = { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }) };
    const noKey = await gatewayFetch(`http://gateway.test/mcp/${demoServer.slug}`, init);
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32000 } });
    const unknown = await gatewayFetch("http://gateway.test/mcp/no-such-server", { ...init, headers: { ...init.headers, authorization: `Bearer ${alice.apiKey}` } });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.message).toBe("No MCP server is registered at /mcp/no-such-server.");
    const noSession = await gatewayFetch(`http://gateway.test/mcp/${demoServer.slug}`, { ...init, headers: { ...init.headers, authorization: `Bearer ${alice.apiKey}` } });
    expect(noSession.status).toBe(400);
    expect((await noSession.json()).error.message).toContain("Mcp-Session-Id header is required");
  });
});

describe("server-everything upstream", () => {
  it("runs simulate-research-query through the gateway, with list and cancel", async () => {
    const client = await connect(alice, everythingServer.slug);
    const task = await createTask(client, "simulate-research-query", { topic: "handles" }, { ttl: 60_000 });
    expect(task.taskId).toMatch(HANDLE_TOKEN_PATTERN);
    expect(task.ttl).toBe(60_000);
    const listed = await client.experimental.tasks.listTasks();
    expect(listed.tasks.map((t) => t.taskId)).toEqual([task.taskId]);
    const other = await createTask(client, "simulate-research-query", { topic: "cancel me" });
    const cancelled = await client.experimental.tasks.cancelTask(other.taskId);
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.taskId).toBe(other.taskId);
    const done = await waitFor(client, task.taskId, (t) => t.status === "completed", 20_000);
    expect(done.status).toBe("completed");
  }, 30_000);
});
