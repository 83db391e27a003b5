// The demo upstream, driven over real HTTP by the official SDK client exactly as Tether's gateway will
// drive it: raw task-augmented tools/call plus tasks/get|result|list|cancel. No database needed.
import { randomUUID } from "node:crypto";
import { request as httpRequest, type OutgoingHttpHeaders } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  CallToolResultSchema,
  CreateTaskResultSchema,
  ElicitRequestSchema,
  ErrorCode,
  RELATED_TASK_META_KEY,
  type ElicitRequest,
  type ElicitResult,
  type GetTaskResult,
  type Task,
} from "@modelcontextprotocol/sdk/types.js";
import { startDemoUpstream, type TDemoUpstream } from "../../lib/demo-upstream/server";

const TOKEN = `demo-${randomUUID()}`;

let upstream: TDemoUpstream;
const logs: string[] = [];
const openClients: { client: Client; transport: StreamableHTTPClientTransport }[] = [];

type TElicitHandler = (request: ElicitRequest) => ElicitResult | Promise<ElicitResult>;

async function connectClient(onElicit?: TElicitHandler): Promise<Client> {
  const client = new Client({ name: "demo-upstream-test", version: "0.0.0" }, { capabilities: { elicitation: { form: {} } } });
  if (onElicit) client.setRequestHandler(ElicitRequestSchema, (request) => onElicit(request));
  const transport = new StreamableHTTPClientTransport(new URL(upstream.url), {
    requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
  });
  await client.connect(transport);
  openClients.push({ client, transport });
  return client;
}

async function createTask(client: Client, name: string, args: Record<string, unknown>, task: { ttl?: number } = {}): Promise<Task> {
  const created = await client.request(
    { method: "tools/call", params: { name, arguments: args, task } },
    CreateTaskResultSchema,
  );
  return created.task;
}

async function waitForTask(
  client: Client,
  taskId: string,
  isDone: (task: GetTaskResult) => boolean,
  timeoutMs = 5_000,
): Promise<GetTaskResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await client.experimental.tasks.getTask(taskId);
    if (isDone(task)) return task;
    if (Date.now() > deadline) throw new Error(`task ${taskId} still ${task.status} (${task.statusMessage ?? ""})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isTerminalStatus(task: GetTaskResult): boolean {
  return task.status === "completed" || task.status === "failed" || task.status === "cancelled";
}

function firstText(result: { content: unknown[] }): string {
  const [first] = result.content;
  if (typeof first !== "object" || first === null || !("text" in first) || typeof first.text !== "string") {
    throw new Error(`no text content in ${JSON.stringify(result)}`);
  }
  return first.text;
}

type TRawResponse = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

/** node:http rather than fetch: fetch drops a custom Host header and hides early responses to large uploads. */
function sendRaw(options: { method: string; path?: string; headers?: OutgoingHttpHeaders; body?: string | Buffer }): Promise<TRawResponse> {
  const url = new URL(upstream.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: options.method, path: options.path ?? url.pathname, headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    // A server that answers before reading the whole upload resets the socket; the response already came.
    req.on("error", (error) => reject(error));
    req.end(options.body);
  });
}

const unauthenticatedHeaders = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const mcpHeaders = { ...unauthenticatedHeaders, authorization: `Bearer ${TOKEN}` };

const initializeBody = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
});

beforeAll(async () => {
  upstream = await startDemoUpstream({ port: 0, bearerToken: TOKEN, defaultDurationSeconds: 0.5, log: (line) => logs.push(line) });
});

afterAll(async () => {
  for (const { client, transport } of openClients) {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
  await upstream?.close();
});

describe("demo upstream: negotiation", () => {
  it("advertises tasks list, cancel and tools/call", async () => {
    const client = await connectClient();
    expect(client.getServerCapabilities()?.tasks).toEqual({ list: {}, cancel: {}, requests: { tools: { call: {} } } });
  });

  it("lists each tool with its execution.taskSupport", async () => {
    const client = await connectClient();
    const { tools } = await client.listTools();
    const support = Object.fromEntries(tools.map((tool) => [tool.name, tool.execution?.taskSupport]));
    expect(support).toEqual({
      long_task: "optional",
      failing_task: "optional",
      input_task: "required",
      queued_task: "optional",
      echo: "forbidden",
    });
  });

  it("answers echo as a plain call", async () => {
    const client = await connectClient();
    const result = await client.callTool({ name: "echo", arguments: { text: "relay me" } });
    expect(result.isError).toBeFalsy();
    expect(firstText(CallToolResultSchema.parse(result))).toBe("relay me");
  });
});

describe("demo upstream: task lifecycle", () => {
  it("runs long_task with progress and returns its result through tasks/result", async () => {
    const client = await connectClient();
    const task = await createTask(client, "long_task", { seconds: 0.6, label: "demo" }, { ttl: 60_000 });
    expect(task).toMatchObject({ status: "working", ttl: 60_000, pollInterval: 1000 });
    expect(task.statusMessage).toBeUndefined();

    const working = await waitForTask(client, task.taskId, (t) => t.statusMessage !== undefined);
    expect(working.statusMessage).toMatch(/^step \d+\/\d+$/);

    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    expect(firstText(result)).toBe('long_task "demo" finished after 0.6s (1 step).');
    expect(result._meta?.[RELATED_TASK_META_KEY]).toEqual({ taskId: task.taskId });
    expect((await client.experimental.tasks.getTask(task.taskId)).status).toBe("completed");
  });

  it("runs an optional task tool without task augmentation (SDK polls it to completion)", async () => {
    const client = await connectClient();
    const result = CallToolResultSchema.parse(await client.callTool({ name: "long_task", arguments: { seconds: 0.2 } }));
    expect(firstText(result)).toBe("long_task finished after 0.2s (1 step).");
  });

  it("ends failing_task as failed with an error result and an explanation", async () => {
    const client = await connectClient();
    const task = await createTask(client, "failing_task", { seconds: 0.3 });
    const done = await waitForTask(client, task.taskId, isTerminalStatus);
    expect(done.status).toBe("failed");
    expect(done.statusMessage).toMatch(/Simulated failure/);
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    expect(result.isError).toBe(true);
    expect(firstText(result)).toMatch(/failed on purpose/);
  });

  it("asks input_task's question via elicitation on tasks/result and completes with the answer", async () => {
    const asked: ElicitRequest[] = [];
    const client = await connectClient((request) => {
      asked.push(request);
      return { action: "accept", content: { answer: "forty-two" } };
    });
    const task = await createTask(client, "input_task", { question: "What is the answer?" });

    const waiting = await waitForTask(client, task.taskId, (t) => t.status !== "working");
    expect(waiting.status).toBe("input_required");
    expect(waiting.statusMessage).toBe("waiting for an answer to: What is the answer?");

    // As the spec tells a requestor seeing input_required: call tasks/result, which carries the question.
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    expect(firstText(result)).toBe("Answer: forty-two");
    expect(asked).toHaveLength(1);
    expect(asked[0]?.params.message).toBe("What is the answer?");
    expect(asked[0]?.params._meta?.[RELATED_TASK_META_KEY]).toEqual({ taskId: task.taskId });
    expect(await client.experimental.tasks.getTask(task.taskId)).toMatchObject({ status: "completed", statusMessage: "answer received" });
  });

  it("completes input_task with a result saying so when the requestor declines", async () => {
    const client = await connectClient(() => ({ action: "decline" }));
    const task = await createTask(client, "input_task", {});
    await waitForTask(client, task.taskId, (t) => t.status === "input_required");
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    expect(result.isError).toBeFalsy();
    expect(firstText(result)).toBe("The requestor declined the question; no answer was given.");
  });

  it("fails input_task with an explanation when the requestor cannot answer elicitations", async () => {
    const client = new Client({ name: "no-elicitation", version: "0.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL(upstream.url), {
      requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
    });
    await client.connect(transport);
    openClients.push({ client, transport });
    const task = await createTask(client, "input_task", {});
    const done = await waitForTask(client, task.taskId, isTerminalStatus);
    expect(done).toMatchObject({ status: "failed" });
    expect(done.statusMessage).toMatch(/did not declare the elicitation capability/);
  });

  it("rejects input_task without task augmentation (taskSupport required)", async () => {
    const client = await connectClient();
    // McpServer reports the -32601 as an isError tool result, not a JSON-RPC error (mcp-tasks.md §2.2).
    const result = await client.request(
      { method: "tools/call", params: { name: "input_task", arguments: {} } },
      CallToolResultSchema,
    );
    expect(result.isError).toBe(true);
    expect(firstText(result)).toMatch(/requires task augmentation/);
  });
});

describe("demo upstream: cancellation", () => {
  it("keeps queued_task cancelled after its time passes, and keeps serving", async () => {
    const client = await connectClient();
    const task = await createTask(client, "queued_task", { queueSeconds: 1.2, seconds: 0.2 });
    const queued = await waitForTask(client, task.taskId, (t) => t.statusMessage !== undefined);
    expect(queued).toMatchObject({ status: "working" });
    expect(queued.statusMessage).toMatch(/^queued \(position \d+\)$/);

    const cancelled = await client.experimental.tasks.cancelTask(task.taskId);
    expect(cancelled.status).toBe("cancelled");

    // Past queueSeconds + seconds: naive work would now try to store its result (and crash the process).
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    expect(await client.experimental.tasks.getTask(task.taskId)).toMatchObject({
      status: "cancelled",
      statusMessage: "Client cancelled task execution.",
    });
    await expect(client.experimental.tasks.cancelTask(task.taskId)).rejects.toMatchObject({ code: ErrorCode.InvalidParams });
    const { tasks } = await client.experimental.tasks.listTasks();
    expect(tasks.find((t) => t.taskId === task.taskId)?.status).toBe("cancelled");

    const echoed = CallToolResultSchema.parse(await client.callTool({ name: "echo", arguments: { text: "still here" } }));
    expect(firstText(echoed)).toBe("still here");
    const prefix = task.taskId.slice(0, 8);
    expect(logs.some((line) => line.startsWith(`task ${prefix}`) && line.includes("ended cancelled"))).toBe(true);
  });

  it("cancels input_task while its question is still queued", async () => {
    const asked: ElicitRequest[] = [];
    const client = await connectClient((request) => {
      asked.push(request);
      return { action: "accept", content: { answer: "too late" } };
    });
    const task = await createTask(client, "input_task", { question: "Never delivered?" });
    await waitForTask(client, task.taskId, (t) => t.status === "input_required");
    expect((await client.experimental.tasks.cancelTask(task.taskId)).status).toBe("cancelled");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await client.experimental.tasks.getTask(task.taskId)).status).toBe("cancelled");
    expect(asked).toHaveLength(0);
  });
});

describe("demo upstream: TTL", () => {
  it("uses 10 minutes when ttl is omitted and clamps a huge ttl to 1 hour", async () => {
    const client = await connectClient();
    const omitted = await createTask(client, "long_task", { seconds: 0.1 });
    const huge = await createTask(client, "long_task", { seconds: 0.1 }, { ttl: 30 * 24 * 3_600_000 });
    const small = await createTask(client, "long_task", { seconds: 0.1 }, { ttl: 0 });
    expect(omitted.ttl).toBe(600_000);
    expect(huge.ttl).toBe(3_600_000);
    // ttl 0 would mean "never clean up" in InMemoryTaskStore; it is raised to the 1 s floor instead.
    expect(small.ttl).toBe(1_000);
    expect((await client.experimental.tasks.getTask(huge.taskId)).ttl).toBe(3_600_000);
  });
});

describe("demo upstream: isolation and HTTP boundary", () => {
  it("hides one session's tasks from another session", async () => {
    const owner = await connectClient();
    const other = await connectClient();
    const task = await createTask(owner, "long_task", { seconds: 0.3 });

    await expect(other.experimental.tasks.getTask(task.taskId)).rejects.toMatchObject({ code: ErrorCode.InvalidParams });
    await expect(other.experimental.tasks.cancelTask(task.taskId)).rejects.toMatchObject({ code: ErrorCode.InvalidParams });
    await expect(other.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema)).rejects.toMatchObject({
      code: ErrorCode.InvalidParams,
    });
    expect((await other.experimental.tasks.listTasks()).tasks).toEqual([]);
    expect((await owner.experimental.tasks.listTasks()).tasks.map((t) => t.taskId)).toContain(task.taskId);
  });

  it("answers 401 without the bearer token, or with a wrong one", async () => {
    const missing = await sendRaw({ method: "POST", headers: unauthenticatedHeaders, body: initializeBody });
    expect(missing.status).toBe(401);
    expect(missing.headers["www-authenticate"]).toMatch(/^Bearer/);
    const wrong = await sendRaw({ method: "POST", headers: { ...mcpHeaders, authorization: "Bearer nope" }, body: initializeBody });
    expect(wrong.status).toBe(401);

    const client = new Client({ name: "no-token", version: "0.0.0" });
    await expect(client.connect(new StreamableHTTPClientTransport(new URL(upstream.url)))).rejects.toThrow();
  });

  it("refuses bad input without falling over", async () => {
    expect((await sendRaw({ method: "GET", path: "/elsewhere", headers: mcpHeaders })).status).toBe(404);
    expect((await sendRaw({ method: "PUT", headers: mcpHeaders, body: "{}" })).status).toBe(405);
    expect((await sendRaw({ method: "POST", headers: mcpHeaders, body: "{not json" })).status).toBe(400);
    expect((await sendRaw({ method: "POST", headers: mcpHeaders, body: Buffer.alloc(1024 * 1024 + 1, 0x20) })).status).toBe(413);
    const notInitialize = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect((await sendRaw({ method: "POST", headers: mcpHeaders, body: notInitialize })).status).toBe(400);
    expect((await sendRaw({ method: "GET", headers: mcpHeaders })).status).toBe(400);
    const unknownSession = await sendRaw({ method: "POST", headers: { ...mcpHeaders, "mcp-session-id": randomUUID() }, body: notInitialize });
    expect(unknownSession.status).toBe(404);
    // DNS rebinding: a foreign Host header is refused even with the right token.
    expect((await sendRaw({ method: "POST", headers: { ...mcpHeaders, host: "attacker.example" }, body: initializeBody })).status).toBe(403);

    const client = await connectClient();
    const echoed = CallToolResultSchema.parse(await client.callTool({ name: "echo", arguments: { text: "alive" } }));
    expect(firstText(echoed)).toBe("alive");
  });

  it("forgets a session on DELETE", async () => {
    const client = await connectClient();
    const transport = openClients.at(-1)?.transport;
    const sessionId = transport?.sessionId;
    expect(sessionId).toBeDefined();
    await transport?.terminateSession();
    expect(logs.some((line) => line.startsWith(`session ${sessionId?.slice(0, 8)}… closed`))).toBe(true);
    await expect(client.listTools()).rejects.toThrow();
  });
});

describe("demo upstream: shutdown", () => {
  it("logged no internal failure while serving the tests above", () => {
    const failures = logs.filter((line) => /failed unexpectedly|could not be marked|request failed|http server error/.test(line));
    expect(failures).toEqual([]);
  });

  it("stops running work and clears its timers on close()", async () => {
    const lines: string[] = [];
    const second = await startDemoUpstream({ port: 0, log: (line) => lines.push(line) });
    const client = new Client({ name: "shutdown-test", version: "0.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(second.url)));
    const { task } = await client.request(
      { method: "tools/call", params: { name: "long_task", arguments: { seconds: 3600 }, task: { ttl: 3_600_000 } } },
      CreateTaskResultSchema,
    );
    const started = Date.now();
    await second.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(lines).toContain(`task ${task.taskId.slice(0, 8)}… (long_task) stopped: server closing`);
    await client.close();
  });
});
