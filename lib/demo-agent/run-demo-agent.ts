// A scripted agent for demos and smoke tests: the official MCP SDK client, talking to Tether's
// gateway exactly as a real agent would (Streamable HTTP, API key as Bearer token). One round
// starts a mix of tasks, polls them honouring pollInterval, answers an elicitation, cancels one,
// fetches results, lists tasks, and has a second agent try a stolen handle. Every expectation is
// recorded as a check; nothing here touches the database, so it runs against any Tether.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolResultSchema,
  CreateTaskResultSchema,
  ElicitRequestSchema,
  ErrorCode,
  McpError,
  type CallToolResult,
  type GetTaskResult,
  type Task,
} from "@modelcontextprotocol/sdk/types.js";
import { HANDLE_TOKEN_PATTERN } from "@/lib/gateway/handle-token";
import { TASK_NOT_FOUND_MESSAGE } from "@/lib/gateway/jsonrpc";
import { redactTokens, shortToken } from "./redact-tokens";

export type TDemoAgentRoundOptions = {
  /** Seconds of work for each long_task of a round (one task per entry). */
  longTaskSeconds?: number[];
  failingTaskSeconds?: number;
  /** TTL asked for every task, in ms (Tether clamps it to its policy). */
  ttlMs?: number;
  /** Also run input_task and answer its question (elicitation via tasks/result). */
  withInputTask?: boolean;
  /** Upper bound for a round's waits, in ms. */
  timeoutMs?: number;
};

export type TDemoAgentOptions = TDemoAgentRoundOptions & {
  /** The demo server's gateway endpoint, e.g. http://127.0.0.1:3000/mcp/demo. */
  gatewayUrl: string;
  /** The agent's own API key. */
  apiKey: string;
  /** Another agent's API key: it plays the thief presenting this agent's token. */
  thiefApiKey: string;
  name?: string;
  /** Where HTTP goes (tests route it into the gateway's handlers); default: global fetch. */
  fetch?: FetchLike;
  /** One human-readable line per step; tokens in it are already shortened. */
  log?: (line: string) => void;
};

export type TCheck = { name: string; ok: boolean; detail?: string };
export type TTaskOutcome = { tool: string; token: string; status: string };
export type TDemoRoundReport = { agent: string; round: number; ok: boolean; checks: TCheck[]; tasks: TTaskOutcome[]; polls: number; durationMs: number };

type TStarted = { tool: string; token: string; expect: "completed" | "failed" | "cancelled"; task: Task };

const DEMO_TOOLS = ["long_task", "failing_task", "input_task", "queued_task", "echo"];
const DEFAULT_POLL_MS = 1_000;
/** Honouring pollInterval means never polling faster than asked; an upstream saying 0 still gets a pause. */
const MIN_POLL_MS = 100;
const ANSWER = "forty-two";

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** True for exactly the answer Tether gives for any task the caller may not use. */
export function isTaskNotFound(err: unknown): boolean {
  return err instanceof McpError && err.code === ErrorCode.InvalidParams && err.message === `MCP error ${ErrorCode.InvalidParams}: ${TASK_NOT_FOUND_MESSAGE}`;
}

export function forgedToken(): string {
  return `tht_${randomBytes(32).toString("base64url")}`;
}

/** An SDK client connected through the gateway with one API key; answers elicitations. */
export async function connectDemoClient(input: { gatewayUrl: string; apiKey: string; fetch?: FetchLike; name: string }): Promise<Client> {
  const client = new Client({ name: input.name, version: "0.1.0" }, { capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler(ElicitRequestSchema, () => ({ action: "accept", content: { answer: ANSWER } }));
  const transport = new StreamableHTTPClientTransport(new URL(input.gatewayUrl), {
    ...(input.fetch ? { fetch: input.fetch } : {}),
    requestInit: { headers: { Authorization: `Bearer ${input.apiKey}` } },
  });
  await client.connect(transport);
  return client;
}

/** An agent with its session open, and the thief's; rounds reuse both. */
export type TDemoAgent = { name: string; owner: Client; thief: Client; close(): Promise<void> };

export async function openDemoAgent(options: TDemoAgentOptions): Promise<TDemoAgent> {
  const name = options.name ?? "agent";
  const common = { gatewayUrl: options.gatewayUrl, ...(options.fetch ? { fetch: options.fetch } : {}) };
  const thief = await connectDemoClient({ ...common, apiKey: options.thiefApiKey, name: `tether-demo-thief (${name})` });
  const owner = await connectDemoClient({ ...common, apiKey: options.apiKey, name: `tether-demo-agent (${name})` }).catch(async (err: unknown) => {
    await thief.close();
    throw err;
  });
  return {
    name,
    owner,
    thief,
    // The sessions stay open on Tether's side on purpose: ending one revokes its live handles,
    // and the demo's handles should stay in the inventory until their TTL runs out.
    close: async () => {
      await Promise.allSettled([owner.close(), thief.close()]);
    },
  };
}

/** Connects, plays one round, disconnects. */
export async function runDemoAgent(options: TDemoAgentOptions): Promise<TDemoRoundReport> {
  const agent = await openDemoAgent(options);
  try {
    return await runDemoRound(agent, 1, options);
  } finally {
    await agent.close();
  }
}

/** One round of the demo with an open agent. Never throws: a failure is a failed check. */
export async function runDemoRound(agent: TDemoAgent, round: number, options: TDemoAgentRoundOptions & { log?: (line: string) => void }): Promise<TDemoRoundReport> {
  const started = Date.now();
  const say = (line: string) => options.log?.(redactTokens(`[${agent.name}] ${line}`));
  const checks: TCheck[] = [];
  const check = (name: string, ok: boolean, detail?: string) => {
    checks.push({ name, ok, ...(detail ? { detail } : {}) });
    say(`${ok ? "✓" : "✗"} ${name}${detail ? ` (${detail})` : ""}`);
  };
  const tasks: TTaskOutcome[] = [];
  let polls = 0;
  const { owner, thief } = agent;
  const ttl = options.ttlMs ?? 600_000;
  const deadline = started + (options.timeoutMs ?? 120_000);

  const startTask = async (tool: string, args: Record<string, unknown>, expect: TStarted["expect"]): Promise<TStarted> => {
    const { task } = await owner.request({ method: "tools/call", params: { name: tool, arguments: args, task: { ttl } } }, CreateTaskResultSchema);
    say(`▸ started ${tool} ${JSON.stringify(args)} → ${shortToken(task.taskId)}, ${task.status}, ttl ${task.ttl} ms, poll every ${task.pollInterval ?? "?"} ms`);
    check(`${tool} answered with a Tether handle token`, HANDLE_TOKEN_PATTERN.test(task.taskId), shortToken(task.taskId));
    return { tool, token: task.taskId, expect, task };
  };

  /** Polls with tasks/get until `done`, sleeping the task's own pollInterval between polls. */
  const pollUntil = async (s: TStarted, done: (t: GetTaskResult) => boolean): Promise<GetTaskResult> => {
    let last = "";
    for (;;) {
      const t = await owner.experimental.tasks.getTask(s.token);
      polls += 1;
      const now = `${t.status}${t.statusMessage ? ` "${t.statusMessage}"` : ""}`;
      if (now !== last) say(`  ${s.tool} ${shortToken(s.token)}: ${now}`);
      last = now;
      if (done(t)) return t;
      if (Date.now() > deadline) throw new Error(`${s.tool} ${shortToken(s.token)} still ${t.status} at the round's deadline`);
      await sleep(Math.max(MIN_POLL_MS, t.pollInterval ?? DEFAULT_POLL_MS));
    }
  };

  try {
    say(`— round ${round}`);
    const tools = (await owner.listTools()).tools.map((t) => t.name);
    check("tools/list relayed through the gateway", DEMO_TOOLS.every((n) => tools.includes(n)), tools.join(", "));

    const longs: TStarted[] = [];
    for (const [i, seconds] of (options.longTaskSeconds ?? [2, 4, 6]).entries()) {
      longs.push(await startTask("long_task", { seconds, label: `${agent.name} round ${round} #${i + 1}` }, "completed"));
    }
    const failing = await startTask("failing_task", { seconds: options.failingTaskSeconds ?? 3 }, "failed");
    const queued = await startTask("queued_task", { queueSeconds: 600, seconds: 1 }, "cancelled");
    const input = options.withInputTask === false ? null : await startTask("input_task", { question: `${agent.name}: what is the answer?` }, "completed");
    const all = [...longs, failing, queued, ...(input ? [input] : [])];

    const listed = await listAllTasks(owner);
    const listedIds = new Set(listed.map((t) => t.taskId));
    check("tasks/list shows every task of this round", all.every((s) => listedIds.has(s.token)), `${listed.length} listed`);

    // The thief: another agent, with its own valid key and session, holding a stolen token.
    const victim = longs[0] ?? failing;
    say(`▸ thief presents ${shortToken(victim.token)} (a token of ${agent.name}'s)`);
    const forged = forgedToken();
    const forgedAnswer = await thief.experimental.tasks.getTask(forged).catch((e: unknown) => e);
    check("a forged token gets “task not found”", isTaskNotFound(forgedAnswer), describeError(forgedAnswer));
    const attempts = [
      ["tasks/get", () => thief.experimental.tasks.getTask(victim.token)],
      ["tasks/result", () => thief.experimental.tasks.getTaskResult(victim.token, CallToolResultSchema)],
      ["tasks/cancel", () => thief.experimental.tasks.cancelTask(victim.token)],
    ] as const;
    for (const [operation, attempt] of attempts) {
      const answer = await attempt().catch((e: unknown) => e);
      check(`stolen token refused on ${operation}, exactly like a forged one`, isTaskNotFound(answer) && describeError(answer) === describeError(forgedAnswer), describeError(answer));
    }
    const thiefList = await listAllTasks(thief);
    check("the thief's tasks/list does not show the stolen task", !thiefList.some((t) => all.some((s) => s.token === t.taskId)), `${thiefList.length} listed`);
    const stillMine = await owner.experimental.tasks.getTask(victim.token);
    check("the owner's token still works and the task was not cancelled", stillMine.status !== "cancelled", stillMine.status);

    say(`▸ cancelling queued_task ${shortToken(queued.token)}`);
    const cancelled = await owner.experimental.tasks.cancelTask(queued.token);
    check("tasks/cancel cancelled the queued task", cancelled.status === "cancelled" && cancelled.taskId === queued.token, cancelled.status);

    const work: Array<Promise<void>> = [];
    if (input) {
      work.push(
        (async () => {
          await pollUntil(input, (t) => t.status !== "working");
          say(`▸ input_task ${shortToken(input.token)} asks a question; tasks/result carries it, the agent answers "${ANSWER}"`);
          const result = await owner.experimental.tasks.getTaskResult(input.token, CallToolResultSchema);
          check("input_task completed with the agent's answer", firstText(result) === `Answer: ${ANSWER}`, firstText(result));
          // tasks/list answers from Tether's record, which learns a task's status from tasks/get.
          const t = await pollUntil(input, (x) => x.status !== "working" && x.status !== "input_required");
          check(`input_task ${shortToken(input.token)} ended completed`, t.status === "completed", t.status);
        })(),
      );
    }
    for (const s of [...longs, failing]) {
      work.push(
        (async () => {
          const t = await pollUntil(s, (x) => x.status === "completed" || x.status === "failed" || x.status === "cancelled");
          check(`${s.tool} ${shortToken(s.token)} ended ${s.expect}`, t.status === s.expect, t.status);
          const result = await owner.experimental.tasks.getTaskResult(s.token, CallToolResultSchema);
          const isError = result.isError === true;
          check(`tasks/result of ${s.tool} ${shortToken(s.token)} is ${s.expect === "failed" ? "an error result" : "its result"}`, isError === (s.expect === "failed"), firstText(result));
        })(),
      );
    }
    const outcomes = await Promise.allSettled(work);
    for (const o of outcomes) if (o.status === "rejected") check("a task finished as expected", false, describeError(o.reason));

    const final = await listAllTasks(owner);
    for (const s of all) {
      const status = final.find((t) => t.taskId === s.token)?.status ?? "missing";
      tasks.push({ tool: s.tool, token: s.token, status });
    }
    const expected = all.map((s) => s.expect);
    const seen = tasks.map((t) => t.status);
    check("tasks/list reports each task's final status", expected.every((e, i) => e === seen[i]), seen.join(", "));
  } catch (err) {
    check(`round ${round} ran to the end`, false, describeError(err));
  }
  const ok = checks.length > 0 && checks.every((c) => c.ok);
  return { agent: agent.name, round, ok, checks, tasks, polls, durationMs: Date.now() - started };
}

async function listAllTasks(client: Client): Promise<Task[]> {
  const tasks: Task[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.experimental.tasks.listTasks(cursor);
    tasks.push(...page.tasks);
    cursor = page.nextCursor;
  } while (cursor);
  return tasks;
}

function firstText(result: CallToolResult): string {
  const first = result.content[0];
  return first?.type === "text" ? first.text : JSON.stringify(result.content).slice(0, 200);
}
