// Demo upstream MCP server: Tether's first upstream and the fixture its gateway tests run against.
// A real SDK 1.32.2 server (Streamable HTTP, stateful sessions, experimental tasks) whose tools drive a
// task through every state a handle can show: working with progress, completed, failed, input_required
// (elicitation answered via tasks/result), cancelled while queued. Read docs/mcp-tasks.md §2 and §5 first:
// most of the care below exists because of SDK behaviour described there.
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from "jose";
import { z } from "zod";
import {
  InMemoryTaskMessageQueue,
  InMemoryTaskStore,
  isTerminal,
  type CreateTaskRequestHandlerExtra,
  type TaskRequestHandlerExtra,
} from "@modelcontextprotocol/sdk/experimental/tasks";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import {
  CallToolResultSchema,
  ElicitResultSchema,
  isInitializeRequest,
  type CallToolResult,
  type CreateTaskResult,
  type ElicitRequestFormParams,
  type ElicitResult,
  type Task,
} from "@modelcontextprotocol/sdk/types.js";

const MCP_PATH = "/mcp";
const MAX_BODY_BYTES = 1024 * 1024;
/** Requested TTLs are honoured inside these bounds; an omitted TTL would be unlimited in InMemoryTaskStore. */
const DEFAULT_TTL_MS = 10 * 60_000;
const MAX_TTL_MS = 60 * 60_000;
/** InMemoryTaskStore treats ttl 0 as "no cleanup", so tiny or negative requests are raised, never passed through. */
const MIN_TTL_MS = 1_000;
const POLL_INTERVAL_MS = 1_000;
/** Spec §Resource Management: bound concurrent work per requestor and overall. */
const MAX_ACTIVE_TASKS_PER_SESSION = 100;
const MAX_SESSIONS = 1_000;
/** Elicitations waiting for the requestor; more is a misbehaving client, and enqueue() then throws. */
const MAX_TASK_QUEUE_SIZE = 16;
/** Idle sessions are reaped after the longest TTL a task can have, so no live handle loses its session early. */
const SESSION_IDLE_MS = MAX_TTL_MS;
const SESSION_SWEEP_INTERVAL_MS = 60_000;
/** Work is slept in slices so the task's status is re-read between them even without the cancel hook. */
const MAX_SLEEP_SLICE_MS = 1_000;
const MAX_PROGRESS_STEPS = 10;
const MAX_QUEUE_POSITIONS = 5;
const MAX_ANSWER_LENGTH = 1000;
const LOOPBACK_HOSTNAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

const ZSeconds = z.number().min(0.1).max(3600);

const ZDemoUpstreamOptions = z.object({
  host: z.string().min(1).default("127.0.0.1"),
  port: z.number().int().min(0).max(65535),
  bearerToken: z.string().min(1, "bearerToken must not be empty (omit it to disable authentication)").optional(),
  defaultDurationSeconds: ZSeconds.default(5),
});

export type TDemoUpstreamOptions = {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  bearerToken?: string;
  /**
   * When set, every request must carry a JWT access token (RFC 9068) from this issuer, signed
   * with a key of its JWKS and meant for this audience, e.g. one Tether fetched with OAuth client
   * credentials. `isAccepted` may refuse a valid token as well (a revoked one, in tests).
   */
  accessToken?: { issuer: string; audience: string; jwksUrl: string; isAccepted?: (claims: JWTPayload) => boolean };
  /** Default `seconds` for the task tools; default 5. */
  defaultDurationSeconds?: number;
  /** One line per lifecycle event; defaults to stderr. Never receives tokens. */
  log?: (line: string) => void;
};

export type TDemoUpstream = {
  /** e.g. http://127.0.0.1:3100/mcp */
  url: string;
  port: number;
  /** Stops accepting requests, aborts background work, closes sessions and clears every timer. */
  close(): Promise<void>;
};

type TTaskOutcome = { status: "completed" | "failed"; result: CallToolResult; statusMessage?: string };

/** What a tool's background work may do with its task; every call re-checks that the task is still live. */
type TTaskRun = {
  signal: AbortSignal;
  checkpoint(statusMessage?: string, status?: "working" | "input_required"): Promise<void>;
  sleep(ms: number): Promise<void>;
  elicit(params: ElicitRequestFormParams): Promise<ElicitResult>;
};

type TActiveRun = { sessionId: string | undefined; controller: AbortController; done: Promise<void> };

type TSession = { transport: StreamableHTTPServerTransport; server: McpServer; lastSeenAt: number; openRequests: number };

type TUpstreamContext = {
  store: CancellationAwareTaskStore;
  queue: InMemoryTaskMessageQueue;
  runs: Map<string, TActiveRun>;
  defaultSeconds: number;
  log: (line: string) => void;
  isClosing: () => boolean;
};

/** Why background work stopped without storing a result; used as the abort reason. */
class TaskStoppedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "TaskStoppedError";
  }
}

// tasks/cancel only flips the stored status (no AbortSignal, no hook: mcp-tasks.md §2.5), so the store is
// the one place that sees a cancellation. Turning it into an abort here stops timers and withdraws a
// pending elicitation at once instead of at the next status check.
class CancellationAwareTaskStore extends InMemoryTaskStore {
  readonly #onCancelled: (taskId: string) => void;

  constructor(onCancelled: (taskId: string) => void) {
    super();
    this.#onCancelled = onCancelled;
  }

  override async updateTaskStatus(
    taskId: string,
    status: Task["status"],
    statusMessage?: string,
    sessionId?: string,
  ): Promise<void> {
    await super.updateTaskStatus(taskId, status, statusMessage, sessionId);
    if (status === "cancelled") this.#onCancelled(taskId);
  }
}

export async function startDemoUpstream(options: TDemoUpstreamOptions): Promise<TDemoUpstream> {
  const config = ZDemoUpstreamOptions.parse({
    host: options.host,
    port: options.port,
    bearerToken: options.bearerToken,
    defaultDurationSeconds: options.defaultDurationSeconds,
  });
  const log = options.log ?? ((line: string) => console.error(`[demo-upstream] ${line}`));
  const sessions = new Map<string, TSession>();
  const runs = new Map<string, TActiveRun>();
  let closing: Promise<void> | undefined;

  const store = new CancellationAwareTaskStore((taskId) => {
    runs.get(taskId)?.controller.abort(new TaskStoppedError("cancelled by the requestor"));
  });
  const ctx: TUpstreamContext = {
    store,
    queue: new InMemoryTaskMessageQueue(),
    runs,
    defaultSeconds: config.defaultDurationSeconds,
    log,
    isClosing: () => closing !== undefined,
  };
  const tokenDigest = config.bearerToken === undefined ? undefined : digest(config.bearerToken);
  const accessToken = options.accessToken;
  const jwks = accessToken ? createRemoteJWKSet(new URL(accessToken.jwksUrl)) : undefined;
  /** A valid JWT access token from the configured issuer for this server, when one is required. */
  async function hasValidAccessToken(header: string | undefined): Promise<boolean> {
    if (!accessToken || !jwks) return true;
    const token = header === undefined ? undefined : /^Bearer[ ]+(\S+)\s*$/i.exec(header)?.[1];
    if (token === undefined) return false;
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer: accessToken.issuer, audience: accessToken.audience, requiredClaims: ["exp"] });
      return accessToken.isAccepted?.(payload) ?? true;
    } catch {
      return false;
    }
  }
  // DNS rebinding: a browser page can reach a loopback server under an attacker's hostname; refusing
  // foreign Host headers closes that even when no bearer token is configured.
  const enforceLoopbackHost = isLoopbackAddress(config.host);

  const httpServer = createServer((req, res) => {
    handleHttpRequest(req, res).catch((error: unknown) => {
      log(`request failed: ${describeError(error)}`);
      if (!res.headersSent) sendJsonError(res, 500, -32603, "Internal error");
      else res.destroy();
    });
  });
  httpServer.on("clientError", (error, socket) => {
    log(`malformed HTTP request: ${describeError(error)}`);
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  async function handleHttpRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (closing) return sendJsonError(res, 503, -32000, "Server is shutting down");
    if (enforceLoopbackHost && !hasLoopbackHostHeader(req)) {
      return sendJsonError(res, 403, -32000, "Forbidden: Host header must name a loopback address");
    }
    // Sessions are not authentication (security best practices §Session Hijacking): every request is checked.
    if (tokenDigest && !isAuthorized(req.headers.authorization, tokenDigest)) {
      return sendJsonError(res, 401, -32001, "Unauthorized", { "www-authenticate": 'Bearer realm="demo-upstream"' });
    }
    if (!(await hasValidAccessToken(req.headers.authorization))) {
      return sendJsonError(res, 401, -32001, "Unauthorized", { "www-authenticate": 'Bearer realm="demo-upstream", error="invalid_token"' });
    }
    if (readPathname(req.url) !== MCP_PATH) return sendJsonError(res, 404, -32000, "Not found");
    if (req.method !== "POST" && req.method !== "GET" && req.method !== "DELETE") {
      return sendJsonError(res, 405, -32000, "Method not allowed", { allow: "GET, POST, DELETE" });
    }

    const sessionHeader = req.headers["mcp-session-id"];
    if (Array.isArray(sessionHeader)) return sendJsonError(res, 400, -32000, "Bad Request: one Mcp-Session-Id header");
    if (sessionHeader !== undefined) {
      const session = sessions.get(sessionHeader);
      if (!session) return sendJsonError(res, 404, -32001, "Session not found");
      let body: unknown;
      if (req.method === "POST") {
        const read = await readJsonBody(req, MAX_BODY_BYTES);
        if (read.kind !== "ok") return rejectBody(res, read.kind);
        body = read.value;
      }
      session.lastSeenAt = Date.now();
      return serveSessionRequest(session, req, res, body);
    }

    if (req.method !== "POST") return sendJsonError(res, 400, -32000, "Bad Request: Mcp-Session-Id header is required");
    const read = await readJsonBody(req, MAX_BODY_BYTES);
    if (read.kind !== "ok") return rejectBody(res, read.kind);
    if (!isInitializeRequest(read.value)) {
      return sendJsonError(res, 400, -32000, "Bad Request: No valid session ID provided");
    }
    if (sessions.size >= MAX_SESSIONS) return sendJsonError(res, 503, -32000, "Too many sessions");
    await openSession(req, res, read.value);
  }

  async function openSession(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const server = buildSessionServer(ctx);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // Bodies are read (and bounded) above; this also bounds any body the transport would read itself.
      maxRequestBodySize: MAX_BODY_BYTES,
      onsessioninitialized: (sessionId) => {
        sessions.set(sessionId, session);
        log(`session ${shortId(sessionId)} opened (${sessions.size} open)`);
      },
    });
    const session: TSession = { transport, server, lastSeenAt: Date.now(), openRequests: 0 };
    // Set before connect(): Protocol.connect chains the handler it finds, so both run on DELETE or close().
    transport.onclose = () => {
      const sessionId = transport.sessionId;
      if (sessionId === undefined || sessions.get(sessionId) !== session) return;
      sessions.delete(sessionId);
      stopRuns((run) => run.sessionId === sessionId, "session closed");
      log(`session ${shortId(sessionId)} closed (${sessions.size} open)`);
    };
    server.server.onerror = (error) => log(`session ${shortId(transport.sessionId)}: ${describeError(error)}`);
    await server.connect(transport);
    await serveSessionRequest(session, req, res, body);
    // An initialize the transport refused never got a session id; nothing else references this pair.
    if (transport.sessionId === undefined) await server.close();
  }

  async function serveSessionRequest(
    session: TSession,
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
  ): Promise<void> {
    // Open requests (a GET SSE stream, a blocking tasks/result) keep the session from being reaped as idle.
    session.openRequests += 1;
    res.once("close", () => {
      session.openRequests -= 1;
      session.lastSeenAt = Date.now();
    });
    await session.transport.handleRequest(req, res, body);
  }

  function stopRuns(matches: (run: TActiveRun) => boolean, reason: string): void {
    for (const run of runs.values()) {
      if (matches(run)) run.controller.abort(new TaskStoppedError(reason));
    }
  }

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off("error", reject);
      resolve();
    });
  });
  httpServer.on("error", (error) => log(`http server error: ${describeError(error)}`));
  // Armed only once listening: a failed start must leave no timer behind.
  const sweeper = setInterval(() => {
    const idleSince = Date.now() - SESSION_IDLE_MS;
    for (const [sessionId, session] of sessions) {
      const hasRuns = [...runs.values()].some((run) => run.sessionId === sessionId);
      if (session.openRequests > 0 || hasRuns || session.lastSeenAt > idleSince) continue;
      log(`session ${shortId(sessionId)} idle, closing`);
      session.server.close().catch((error: unknown) => log(`closing idle session failed: ${describeError(error)}`));
    }
  }, SESSION_SWEEP_INTERVAL_MS);
  sweeper.unref();

  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${formatHostForUrl(config.host)}:${port}${MCP_PATH}`;
  log(`listening on ${url}${accessToken ? " (JWT access token required)" : tokenDigest ? " (bearer token required)" : " (no authentication)"}`);

  async function shutDown(): Promise<void> {
    clearInterval(sweeper);
    stopRuns(() => true, "server closing");
    // Background work must be gone before the store is cleared, or it would read a store that no longer knows its task.
    await Promise.allSettled([...runs.values()].map((run) => run.done));
    await Promise.allSettled([...sessions.values()].map((session) => session.server.close()));
    sessions.clear();
    // Clears the TTL timers InMemoryTaskStore keeps per task (up to an hour each).
    store.cleanup();
    await new Promise<void>((resolve) => {
      httpServer.close(() => resolve());
      // SSE streams never end on their own; close() alone would wait for them.
      httpServer.closeAllConnections();
    });
    log("closed");
  }

  return {
    url,
    port,
    close: () => {
      closing ??= shutDown();
      return closing;
    },
  };
}

/** One McpServer per session (SDK ≥1.26 refuses to reuse a Protocol across transports); store and queue are shared and isolate by sessionId. */
function buildSessionServer(ctx: TUpstreamContext): McpServer {
  const server = new McpServer(
    { name: "tether-demo-upstream", version: "0.1.0" },
    {
      // Not derived by the SDK from registered task tools: declared here, or clients must not send tasks.
      capabilities: { tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } },
      taskStore: ctx.store,
      taskMessageQueue: ctx.queue,
      defaultTaskPollInterval: POLL_INTERVAL_MS,
      maxTaskQueueSize: MAX_TASK_QUEUE_SIZE,
      instructions:
        "Demo upstream for Tether. Task tools: long_task, failing_task, input_task (asks a question via elicitation), queued_task. Plain tool: echo.",
    },
  );
  const secondsField = ZSeconds.optional().describe(`How long the work takes, in seconds (default ${ctx.defaultSeconds}).`);

  server.experimental.tasks.registerToolTask(
    "long_task",
    {
      title: "Long task",
      description: "Works for `seconds`, reporting progress as statusMessage \"step i/n\", then completes with a text result.",
      inputSchema: { seconds: secondsField, label: z.string().max(200).optional().describe("Echoed in the result.") },
      execution: { taskSupport: "optional" },
    },
    {
      createTask: (args, extra) =>
        startTask(ctx, extra, "long_task", async (run) => {
          const seconds = args.seconds ?? ctx.defaultSeconds;
          const steps = await runSteps(run, seconds);
          const name = args.label === undefined ? "long_task" : `long_task "${args.label}"`;
          const stepWord = steps === 1 ? "step" : "steps";
          return { status: "completed", result: textResult(`${name} finished after ${seconds}s (${steps} ${stepWord}).`) };
        }),
      getTask: readTask,
      getTaskResult: readTaskResult,
    },
  );

  server.experimental.tasks.registerToolTask(
    "failing_task",
    {
      title: "Failing task",
      description: "Works for `seconds`, then ends as failed with an error result.",
      inputSchema: { seconds: secondsField },
      execution: { taskSupport: "optional" },
    },
    {
      createTask: (args, extra) =>
        startTask(ctx, extra, "failing_task", async (run) => {
          const seconds = args.seconds ?? ctx.defaultSeconds;
          await runSteps(run, seconds);
          return {
            status: "failed",
            statusMessage: "Simulated failure: failing_task always fails once its work is done.",
            result: textResult(`failing_task failed on purpose after ${seconds}s.`, true),
          };
        }),
      getTask: readTask,
      getTaskResult: readTaskResult,
    },
  );

  server.experimental.tasks.registerToolTask(
    "input_task",
    {
      title: "Input task",
      description:
        "Moves to input_required and asks the requestor a question by elicitation (delivered through tasks/result), then completes with the answer.",
      inputSchema: { question: z.string().min(1).max(1000).optional().describe("The question to ask.") },
      execution: { taskSupport: "required" },
    },
    {
      createTask: (args, extra) =>
        startTask(ctx, extra, "input_task", async (run) => {
          const question = args.question ?? "What should the demo task answer?";
          if (!supportsFormElicitation(server)) {
            return {
              status: "failed",
              statusMessage: "The requestor did not declare the elicitation capability, so the question cannot be asked.",
              result: textResult("input_task needs a client that supports form elicitation.", true),
            };
          }
          await run.checkpoint(`waiting for an answer to: ${question}`, "input_required");
          let reply: ElicitResult;
          try {
            reply = await run.elicit({
              mode: "form",
              message: question,
              requestedSchema: {
                type: "object",
                properties: {
                  answer: { type: "string", title: "Answer", description: question, maxLength: MAX_ANSWER_LENGTH },
                },
                required: ["answer"],
              },
            });
          } catch (error) {
            // A timeout or a JSON-RPC error from the requestor. If the task was cancelled instead, the final
            // liveness check in runInBackground drops this outcome, so it can never overwrite "cancelled".
            return {
              status: "failed",
              statusMessage: `No answer from the requestor: ${describeError(error)}`,
              result: textResult("input_task could not get an answer from the requestor.", true),
            };
          }
          // input_required → working before the terminal state, as the spec's lifecycle describes.
          await run.checkpoint("answer received");
          if (reply.action !== "accept") {
            const verb = reply.action === "decline" ? "declined" : "cancelled";
            return { status: "completed", result: textResult(`The requestor ${verb} the question; no answer was given.`) };
          }
          const answer = reply.content?.["answer"];
          // Raw sendRequest skips the schema check Server.elicitInput would do, so the answer is checked here.
          if (typeof answer !== "string" || answer.length > MAX_ANSWER_LENGTH) {
            return {
              status: "failed",
              statusMessage: "The requestor accepted but the answer does not match the requested schema.",
              result: textResult("input_task received an answer that does not match the requested schema.", true),
            };
          }
          return { status: "completed", result: textResult(`Answer: ${answer}`) };
        }),
      getTask: readTask,
      getTaskResult: readTaskResult,
    },
  );

  server.experimental.tasks.registerToolTask(
    "queued_task",
    {
      title: "Queued task",
      description:
        "Stays working with statusMessage \"queued (position n)\" for `queueSeconds`, then \"running\" for `seconds`, then completes. Meant to be cancelled while queued.",
      inputSchema: {
        queueSeconds: z.number().min(0).max(3600).optional().describe("Time spent queued, in seconds (default 30)."),
        seconds: secondsField,
      },
      execution: { taskSupport: "optional" },
    },
    {
      createTask: (args, extra) =>
        startTask(ctx, extra, "queued_task", async (run) => {
          const queueSeconds = args.queueSeconds ?? 30;
          const seconds = args.seconds ?? ctx.defaultSeconds;
          if (queueSeconds > 0) {
            const positions = Math.min(MAX_QUEUE_POSITIONS, Math.ceil(queueSeconds));
            for (let position = positions; position >= 1; position -= 1) {
              await run.checkpoint(`queued (position ${position})`);
              await run.sleep((queueSeconds * 1000) / positions);
            }
          }
          await run.checkpoint("running");
          await run.sleep(seconds * 1000);
          return {
            status: "completed",
            result: textResult(`queued_task ran for ${seconds}s after ${queueSeconds}s in the queue.`),
          };
        }),
      getTask: readTask,
      getTaskResult: readTaskResult,
    },
  );

  server.registerTool(
    "echo",
    {
      title: "Echo",
      description: "Returns `text` unchanged (a plain, non-task tool).",
      inputSchema: { text: z.string().max(100_000) },
    },
    async ({ text }) => textResult(text),
  );

  return server;
}

/** Creates the task, starts its work in the background and returns at once, as CreateTaskResult requires. */
async function startTask(
  ctx: TUpstreamContext,
  extra: CreateTaskRequestHandlerExtra,
  toolName: string,
  work: (run: TTaskRun) => Promise<TTaskOutcome>,
): Promise<CreateTaskResult> {
  if (ctx.isClosing()) throw new Error("The server is shutting down.");
  const sessionId = extra.sessionId;
  const active = [...ctx.runs.values()].filter((run) => run.sessionId === sessionId).length;
  // McpServer turns any throw here into an isError tool result, so the requestor sees this text, not a task.
  if (active >= MAX_ACTIVE_TASKS_PER_SESSION) {
    throw new Error(`Too many running tasks in this session (limit ${MAX_ACTIVE_TASKS_PER_SESSION}).`);
  }
  const ttl = resolveTaskTtl(extra.taskRequestedTtl);
  // InMemoryTaskStore.createTask returns its live record (getTask copies, createTask does not), so without
  // this snapshot the background work's first status update would leak into the CreateTaskResult.
  const task = { ...(await extra.taskStore.createTask({ ttl, pollInterval: POLL_INTERVAL_MS })) };
  const entry: TActiveRun = { sessionId, controller: new AbortController(), done: Promise.resolve() };
  ctx.runs.set(task.taskId, entry);
  ctx.log(`task ${shortId(task.taskId)} created: ${toolName}, ttl ${ttl} ms, session ${shortId(sessionId)}`);
  entry.done = runInBackground(ctx, extra, task, toolName, entry.controller, work);
  return { task };
}

/**
 * Never rejects. A cancelled or expired task is left exactly as it is: the spec requires a cancelled task
 * to stay cancelled, and InMemoryTaskStore throws on any write to a terminal task (the crash in §3).
 */
async function runInBackground(
  ctx: TUpstreamContext,
  extra: CreateTaskRequestHandlerExtra,
  task: Task,
  toolName: string,
  controller: AbortController,
  work: (run: TTaskRun) => Promise<TTaskOutcome>,
): Promise<void> {
  const { taskId } = task;
  const sessionId = extra.sessionId;
  const label = `task ${shortId(taskId)} (${toolName})`;
  const { signal } = controller;

  const assertLive = async (): Promise<void> => {
    if (signal.aborted) throw signal.reason;
    const current = await ctx.store.getTask(taskId, sessionId);
    if (!current) throw new TaskStoppedError("expired");
    if (isTerminal(current.status)) throw new TaskStoppedError(`already ${current.status}`);
  };

  const run: TTaskRun = {
    signal,
    async checkpoint(statusMessage, status = "working") {
      await assertLive();
      if (statusMessage !== undefined) await extra.taskStore.updateTaskStatus(taskId, status, statusMessage);
    },
    async sleep(ms) {
      let remaining = ms;
      while (remaining > 0) {
        const slice = Math.min(remaining, MAX_SLEEP_SLICE_MS);
        await delay(slice, undefined, { signal });
        remaining -= slice;
        await assertLive();
      }
    },
    async elicit(params) {
      await assertLive();
      // Typed as RequestOptions on purpose: sendRequest's declared TaskRequestOptions omits relatedTask
      // because handlers serving a task-related request inherit it, but this work was started by a plain
      // tools/call and must name its task. At runtime the SDK honours it: it marks the task input_required
      // and queues the request for delivery on the requestor's tasks/result stream.
      // The answer may come from a person, so it may take as long as the task lives. The SDK leaves this
      // timeout armed even after a side-channel answer arrives (its resolver path skips _cleanupTimeout);
      // the timer is bounded by the TTL and cleared when the session or the server closes.
      const requestOptions: RequestOptions = { relatedTask: { taskId }, signal, timeout: task.ttl ?? DEFAULT_TTL_MS };
      return extra.sendRequest({ method: "elicitation/create", params }, ElicitResultSchema, requestOptions);
    },
  };

  try {
    const outcome = await work(run);
    await run.checkpoint(outcome.statusMessage);
    await extra.taskStore.storeTaskResult(taskId, outcome.status, outcome.result);
    ctx.log(`${label} ${outcome.status}`);
  } catch (error) {
    const current = await ctx.store.getTask(taskId, sessionId).catch(() => null);
    if (current && isTerminal(current.status)) {
      // Cancelled meanwhile, or the result was stored and only the status notification failed (session gone).
      ctx.log(`${label} ended ${current.status}: ${describeError(signal.aborted ? signal.reason : error)}`);
    } else if (signal.aborted || !current || error instanceof TaskStoppedError) {
      ctx.log(`${label} stopped: ${describeError(signal.aborted ? signal.reason : error)}`);
    } else {
      // A live task whose work broke: fail it now rather than leave it "working" until its TTL runs out.
      ctx.log(`${label} failed unexpectedly: ${describeError(error)}`);
      try {
        await extra.taskStore.storeTaskResult(taskId, "failed", textResult("The demo upstream hit an internal error.", true));
      } catch (storeError) {
        ctx.log(`${label} could not be marked failed: ${describeError(storeError)}`);
      }
    }
  } finally {
    ctx.runs.delete(taskId);
  }
}

/** Sleeps `seconds` in up to MAX_PROGRESS_STEPS steps, publishing "step i/n" before each. */
async function runSteps(run: TTaskRun, seconds: number): Promise<number> {
  const steps = Math.min(MAX_PROGRESS_STEPS, Math.max(1, Math.ceil(seconds)));
  for (let step = 1; step <= steps; step += 1) {
    await run.checkpoint(`step ${step}/${steps}`);
    await run.sleep((seconds * 1000) / steps);
  }
  return steps;
}

// The SDK answers tasks/get and tasks/result from the TaskStore and never calls these (mcp-tasks.md §5).
// ToolTaskHandler still requires them; they read the same store so nothing changes if a later SDK calls them.
async function readTask(_args: unknown, extra: TaskRequestHandlerExtra): Promise<Task> {
  return extra.taskStore.getTask(extra.taskId);
}

async function readTaskResult(_args: unknown, extra: TaskRequestHandlerExtra): Promise<CallToolResult> {
  return CallToolResultSchema.parse(await extra.taskStore.getTaskResult(extra.taskId));
}

function resolveTaskTtl(requested: number | undefined): number {
  if (requested === undefined || !Number.isFinite(requested)) return DEFAULT_TTL_MS;
  return Math.round(Math.min(MAX_TTL_MS, Math.max(MIN_TTL_MS, requested)));
}

/** An empty `elicitation: {}` predates modes and means form (as the SDK's client reads it). */
function supportsFormElicitation(server: McpServer): boolean {
  const elicitation = server.server.getClientCapabilities()?.elicitation;
  if (!elicitation) return false;
  return elicitation.form !== undefined || elicitation.url === undefined;
}

function textResult(text: string, isError = false): CallToolResult {
  return isError ? { content: [{ type: "text", text }], isError: true } : { content: [{ type: "text", text }] };
}

type TBodyRead = { kind: "ok"; value: unknown } | { kind: "too-large" } | { kind: "invalid-json" } | { kind: "aborted" };

/** Reads at most `limit` bytes; a larger body is refused as soon as it is seen, before anything is parsed. */
function readJsonBody(req: IncomingMessage, limit: number): Promise<TBodyRead> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ kind: "too-large" });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: TBodyRead): void => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) return settle({ kind: "too-large" });
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => {
      try {
        settle({ kind: "ok", value: JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown });
      } catch {
        settle({ kind: "invalid-json" });
      }
    });
    req.once("error", () => settle({ kind: "aborted" }));
    req.once("close", () => settle({ kind: "aborted" }));
  });
}

function rejectBody(res: ServerResponse, kind: Exclude<TBodyRead["kind"], "ok">): void {
  if (kind === "too-large") {
    // Connection: close makes Node drop the rest of the upload instead of reading it to keep the socket alive.
    return sendJsonError(res, 413, -32000, `Request body exceeds ${MAX_BODY_BYTES} bytes`, { connection: "close" });
  }
  if (kind === "invalid-json") return sendJsonError(res, 400, -32700, "Parse error: Invalid JSON");
  res.destroy();
}

function sendJsonError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: OutgoingHttpHeaders = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** Compares digests so the comparison takes the same time whatever the length or content of the guess. */
function isAuthorized(header: string | undefined, tokenDigest: Buffer): boolean {
  const match = header === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  const token = match?.[1];
  if (token === undefined) return false;
  return timingSafeEqual(digest(token), tokenDigest);
}

function readPathname(url: string | undefined): string | undefined {
  try {
    return new URL(url ?? "/", "http://localhost").pathname;
  } catch {
    return undefined;
  }
}

function isLoopbackAddress(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

function hasLoopbackHostHeader(req: IncomingMessage): boolean {
  const header = req.headers.host;
  if (!header) return false;
  try {
    const hostname = new URL(`http://${header}`).hostname;
    return LOOPBACK_HOSTNAMES.has(hostname) || /^127(\.\d{1,3}){3}$/.test(hostname);
  } catch {
    return false;
  }
}

function formatHostForUrl(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

/** Logs carry an id prefix: enough to correlate lines, not enough to address a task or session. */
function shortId(id: string | undefined): string {
  return id === undefined ? "-" : `${id.slice(0, 8)}…`;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
