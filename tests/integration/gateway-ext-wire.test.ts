// The 2026-07-28 Tasks extension wire (`io.modelcontextprotocol/tasks`) through the gateway: the
// binding matrix of the core wire, run again for handles that have no session (bound to
// principal, server, policy and the agent's credential instead), the extension's own shapes
// (flat CreateTaskResult, results inline in tasks/get, tasks/update, no tasks/list or
// tasks/result), status notifications, and official requester clients (ext-tasks on SDK 2.x) of
// both task wires against their upstreams through the same Tether.
import { randomBytes, randomUUID } from "node:crypto";
import { createParser } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from "@modelcontextprotocol/client";
import { createTaskSessionFromClient, resultFromTaskOutcome } from "@modelcontextprotocol/ext-tasks/client";
import { createApiKey } from "@/lib/api-keys/create-api-key";
import { revokeApiKey } from "@/lib/api-keys/revoke-api-key";
import { setServiceAccountDisabled } from "@/lib/api-keys/set-service-account-disabled";
import { systemActor, type TActor } from "@/lib/auth/actor";
import { decryptSecret } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { HANDLE_TOKEN_PATTERN, handleTokenHash, upstreamTaskContext } from "@/lib/gateway/handle-token";
import { TASK_NOT_FOUND_MESSAGE } from "@/lib/gateway/jsonrpc";
import { cancelHandle } from "@/lib/handles/cancel-handle";
import { getHandle } from "@/lib/handles/get-handle";
import { revokeHandle } from "@/lib/handles/revoke-handle";
import { syncHandleStatuses } from "@/lib/handles/sync-handle-statuses";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { getCurrentPolicy } from "@/lib/policy/get-current-policy";
import { probeUpstream } from "@/lib/servers/probe-upstream";
import { startExtTasksUpstream, type TExtTasksUpstream } from "../fixtures/ext-tasks-upstream";
import { actorFor, createPrincipal } from "../factories/principals";
import { setUpTestSecrets } from "./support/env";
import { GATEWAY_ORIGIN, captureLogs, connectAgent, createAgent, createTask, gatewayFetch, registerServer, startDemoServer, type TAgent } from "./support/gateway";
import { setUpOwnDatabase } from "./support/own-database";
import { setPolicyFields } from "./support/policy";

setUpOwnDatabase();
setUpTestSecrets();

const VERSION = "2026-07-28";
const EXT = "io.modelcontextprotocol/tasks";

let ext: TExtTasksUpstream;
let otherExt: TExtTasksUpstream;
let demo: Awaited<ReturnType<typeof startDemoServer>>;
let server: { id: string; slug: string };
let otherServer: { id: string; slug: string };
let demoServer: { id: string; slug: string };
let admin: TActor;
let logs: ReturnType<typeof captureLogs>;
const secrets = new Set<string>();
let rpcId = 1;

type TAnswer = { status: number; body: { result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } } };

/** One 2026-07-28 request from an agent, as the SDK 2.x client frames it (no session). */
async function extCall(apiKey: string, method: string, params: Record<string, unknown> = {}, options: { slug?: string; optIn?: boolean } = {}): Promise<TAnswer> {
  const body = {
    jsonrpc: "2.0",
    id: rpcId++,
    method,
    params: {
      ...params,
      _meta: {
        "io.modelcontextprotocol/protocolVersion": VERSION,
        "io.modelcontextprotocol/clientInfo": { name: "ext-test-agent", version: "1" },
        "io.modelcontextprotocol/clientCapabilities": options.optIn === false ? {} : { extensions: { [EXT]: {} } },
      },
    },
  };
  const name = method.startsWith("tasks/") ? params.taskId : params.name;
  const response = await gatewayFetch(`${GATEWAY_ORIGIN}/mcp/${options.slug ?? server.slug}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${apiKey}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": VERSION,
      "mcp-method": method,
      ...(typeof name === "string" ? { "mcp-name": name } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const json = text.startsWith("event:") || text.startsWith("data:") ? JSON.parse(text.split("\n").find((l) => l.startsWith("data: "))!.slice(6)) : JSON.parse(text);
  return { status: response.status, body: json };
}

/**
 * How long an issued task works unless a test ends it with `ext.complete(upstreamId)`: long enough
 * that no test sees it end on its own, so "still working" never depends on how loaded the machine is.
 */
const LONG = 3_600;

/** A running task on the extension wire; returns its token, handle row and upstream task id. */
async function issue(agent: { apiKey: string }, slug = server.slug, seconds = LONG, args: Record<string, unknown> = {}) {
  const created = await extCall(agent.apiKey, "tools/call", { name: "slow_task", arguments: { seconds, ...args } }, { slug });
  expect(created.body.error).toBeUndefined();
  const token = created.body.result!.taskId as string;
  expect(token).toMatch(HANDLE_TOKEN_PATTERN);
  const handle = await getPrisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(token) } });
  const upstreamId = decryptSecret(handle.upstreamTaskIdEnc, upstreamTaskContext(handle.id));
  secrets.add(token);
  secrets.add(upstreamId);
  return { token, handle, upstreamId, created: created.body.result! };
}

async function expectNotFound(call: Promise<TAnswer>, handleId: string | null): Promise<string> {
  const answer = await call;
  expect(answer.body.result, "the call should have been refused").toBeUndefined();
  expect(answer.body.error).toEqual({ code: -32602, message: TASK_NOT_FOUND_MESSAGE });
  const denial = await getPrisma().auditEvent.findFirst({ where: { action: "handle.denied", ...(handleId ? { targetId: handleId } : {}) }, orderBy: { seq: "desc" } });
  expect(denial).not.toBeNull();
  return (denial!.payload as { cause: string }).cause;
}

async function setPolicy(overrides: Record<string, unknown>) {
  await setPolicyFields(admin, overrides, "ext wire test");
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type TSseMessage = { method?: string; params: Record<string, unknown> };

/**
 * An SSE answer read as it arrives. `until` reads until the complete events so far satisfy a
 * condition, each read raced against what is left of its deadline, so a missing event fails with
 * what the stream did carry instead of blocking until the test's own timeout.
 */
function sseStream(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const received: TSseMessage[] = [];
  const parser = createParser({ onEvent: (e) => void received.push(JSON.parse(e.data) as TSseMessage) });
  const messages = (): TSseMessage[] => [...received];
  return {
    text: () => text,
    messages,
    async until(done: (messages: TSseMessage[]) => boolean, what: string, ms = 10_000): Promise<TSseMessage[]> {
      const deadline = Date.now() + ms;
      while (!done(messages())) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
        });
        const next = await Promise.race([reader.read(), timeout]).finally(() => clearTimeout(timer));
        if (next === "timeout") throw new Error(`no ${what} on the stream within ${ms} ms; it carried: ${JSON.stringify(text)}`);
        if (next.done) throw new Error(`the stream ended before ${what}; it carried: ${JSON.stringify(text)}`);
        const chunk = decoder.decode(next.value, { stream: true });
        text += chunk;
        parser.feed(chunk);
      }
      return messages();
    },
    cancel: () => reader.cancel().catch(() => undefined),
  };
}

beforeAll(async () => {
  logs = captureLogs();
  await ensureDefaultPolicy(getPrisma(), systemActor("test", `ext-wire-test-${randomUUID()}`));
  [ext, otherExt, demo] = await Promise.all([
    startExtTasksUpstream({ bearerToken: randomBytes(24).toString("base64url") }),
    startExtTasksUpstream({ bearerToken: randomBytes(24).toString("base64url") }),
    startDemoServer(),
  ]);
  server = await registerServer({ url: ext.url, bearerToken: ext.bearerToken });
  otherServer = await registerServer({ url: otherExt.url, bearerToken: otherExt.bearerToken });
  demoServer = await registerServer({ url: demo.url, bearerToken: demo.bearerToken });
  admin = actorFor(await createPrincipal(getPrisma(), { role: "admin" }));
}, 30_000);

afterAll(async () => {
  await Promise.allSettled([ext?.close(), otherExt?.close(), demo?.close()]);
  logs?.restore();
});

describe("detection", () => {
  it("recognises a 2026-07-28 server by server/discover and records the extension wire", async () => {
    const probed = await probeUpstream({ url: ext.url, credentials: { given: { type: "bearer", token: ext.bearerToken } }, timeoutMs: 5_000, listTools: true });
    expect(probed.ok).toBe(true);
    expect(probed.details).toMatchObject({ protocolVersion: VERSION, taskWires: ["ext_2026_07_28"], serverInfo: { name: "ext-tasks-fixture" } });
    expect(probed.details!.tools.map((t) => t.name)).toEqual(["slow_task", "echo", "rogue_task"]);
    const legacy = await probeUpstream({ url: demo.url, credentials: { given: { type: "bearer", token: demo.bearerToken } }, timeoutMs: 5_000, listTools: false });
    expect(legacy.details?.taskWires).toEqual(["core_2025_11_25"]);
  });
});

describe("minting on the extension wire", () => {
  it("turns a CreateTaskResult into a handle bound to principal, server, policy and API key, with no session", async () => {
    const agent = await createAgent(admin);
    const { token, handle, created } = await issue(agent);
    expect(created).toMatchObject({ resultType: "task", taskId: token, status: "working" });
    const policy = await getCurrentPolicy();
    // Nothing requested on this wire: the policy default, below the upstream's hour.
    expect(created.ttlMs).toBe(policy.defaultTtlMs);
    expect(handle).toMatchObject({ wire: "ext_2026_07_28", sessionId: null, apiKeyId: agent.apiKeyId, principalId: agent.principalId, serverId: server.id, upstreamTtlMs: 3_600_000, effectiveTtlMs: policy.defaultTtlMs, requestedTtlMs: null });
    const issued = await getPrisma().auditEvent.findFirstOrThrow({ where: { action: "handle.issued", targetId: handle.id } });
    expect(issued.payload).toMatchObject({ wire: "ext_2026_07_28", sessionId: null });
    // What went upstream: the agent's opt-in, Tether's credentials (never the agent's key), no session.
    const call = ext.received.findLast((r) => r.method === "tools/call")!;
    expect(call.params._meta).toMatchObject({ "io.modelcontextprotocol/clientCapabilities": { extensions: { [EXT]: {} } } });
    expect(call.headers.authorization).toBe(`Bearer ${ext.bearerToken}`);
    expect(call.headers["mcp-session-id"]).toBeUndefined();
  });

  it("relays a plain result, and the upstream's -32021 to an agent that did not opt in", async () => {
    const agent = await createAgent(admin);
    const echoed = await extCall(agent.apiKey, "tools/call", { name: "echo", arguments: { text: "hi" } });
    expect(echoed.body.result).toMatchObject({ content: [{ type: "text", text: "hi" }] });
    const refused = await extCall(agent.apiKey, "tools/call", { name: "slow_task", arguments: {} }, { optIn: false });
    expect(refused.body.error).toMatchObject({ code: -32021 });
    expect(await getPrisma().handle.count({ where: { principalId: agent.principalId } })).toBe(0);
  });

  it("cancels a task the upstream created for a request that did not opt in, and issues no handle", async () => {
    const agent = await createAgent(admin);
    const before = new Set(ext.taskIds());
    const answer = await extCall(agent.apiKey, "tools/call", { name: "rogue_task", arguments: { seconds: LONG } }, { optIn: false });
    expect(answer.body.error?.message).toContain("did not opt into tasks");
    const rogue = ext.taskIds().find((id) => !before.has(id))!;
    expect(ext.task(rogue)!.status).toBe("cancelled");
    expect(JSON.stringify(answer.body)).not.toContain(rogue);
    expect(await getPrisma().handle.count({ where: { principalId: agent.principalId } })).toBe(0);
  });

  it("refuses a new task beyond the live-handle cap and cancels nothing that runs unguarded", async () => {
    await setPolicy({ maxLiveHandlesPerPrincipal: 1 });
    try {
      const agent = await createAgent(admin);
      await issue(agent);
      const calls = ext.received.length;
      const refused = await extCall(agent.apiKey, "tools/call", { name: "slow_task", arguments: { seconds: 10 } });
      expect(refused.body.error?.message).toContain("Task handle limit reached: this agent holds 1 live task handles and the policy allows 1");
      expect(ext.received.length).toBe(calls); // refused before the upstream was asked
    } finally {
      await setPolicy({ maxLiveHandlesPerPrincipal: 100 });
    }
  });
});

describe("the binding matrix on the extension wire", () => {
  it("allows the owner's key: get, the result inline, update for input, cancel; and audits them", async () => {
    const agent = await createAgent(admin);
    const { token, handle, upstreamId } = await issue(agent);
    const working = await extCall(agent.apiKey, "tasks/get", { taskId: token });
    expect(working.body.result).toMatchObject({ resultType: "complete", taskId: token, status: "working", ttlMs: handle.effectiveTtlMs });
    // The upstream got its own id in the body and in the Mcp-Name header (it checks they agree).
    expect(ext.received.findLast((r) => r.method === "tasks/get")).toMatchObject({ headers: { "mcp-name": upstreamId }, params: { taskId: upstreamId } });
    expect(ext.complete(upstreamId)).toBe("completed");
    const done = await waitFor(() => extCall(agent.apiKey, "tasks/get", { taskId: token }), (a) => a.body.result?.status === "completed", "completion");
    expect(done.body.result).toMatchObject({ taskId: token, status: "completed", result: { content: [{ type: "text", text: `done after ${LONG} s` }] } });
    expect(JSON.stringify(done.body)).not.toContain(upstreamId);
    expect(await getPrisma().handle.findUniqueOrThrow({ where: { id: handle.id } })).toMatchObject({ status: "completed" });
    expect(await getPrisma().auditEvent.count({ where: { action: "handle.result_fetched", targetId: handle.id } })).toBeGreaterThanOrEqual(1);

    // input_required → tasks/update → completed, with the answer in the result.
    const asking = await issue(agent, server.slug, LONG, { ask: true });
    expect(ext.complete(asking.upstreamId)).toBe("input_required");
    const waiting = await waitFor(() => extCall(agent.apiKey, "tasks/get", { taskId: asking.token }), (a) => a.body.result?.status === "input_required", "input_required");
    expect(waiting.body.result).toMatchObject({ inputRequests: { name: { method: "elicitation/create" } } });
    const ack = await extCall(agent.apiKey, "tasks/update", { taskId: asking.token, inputResponses: { name: { action: "accept", content: { name: "Luca" } } } });
    expect(ack.body.result).toEqual({ resultType: "complete" });
    const greeted = await waitFor(() => extCall(agent.apiKey, "tasks/get", { taskId: asking.token }), (a) => a.body.result?.status === "completed", "greeting");
    expect(greeted.body.result).toMatchObject({ result: { content: [{ text: "Hello, Luca!" }] } });

    // Cancel: acknowledged, recorded, and the handle revoked.
    const running = await issue(agent);
    const cancelled = await extCall(agent.apiKey, "tasks/cancel", { taskId: running.token });
    expect(cancelled.body.result).toEqual({ resultType: "complete" });
    expect(await getPrisma().handle.findUniqueOrThrow({ where: { id: running.handle.id } })).toMatchObject({ cancelState: "confirmed" });
    expect(ext.task(running.upstreamId)!.status).toBe("cancelled");
  });

  it("passes a failed task's JSON-RPC error through inline, and the handle records the failure", async () => {
    const agent = await createAgent(admin);
    const { token, handle, upstreamId } = await issue(agent, server.slug, LONG, { fail: true });
    expect(ext.complete(upstreamId)).toBe("failed");
    const failed = await waitFor(() => extCall(agent.apiKey, "tasks/get", { taskId: token }), (a) => a.body.result?.status === "failed", "failure");
    expect(failed.body.result).toMatchObject({ taskId: token, status: "failed", error: { code: -32603, message: "the work failed" } });
    expect(await getPrisma().handle.findUniqueOrThrow({ where: { id: handle.id } })).toMatchObject({ status: "failed" });
  });

  it("withholds the inline result when the policy does not allow fetching results", async () => {
    const policy = await getCurrentPolicy();
    await setPolicy({ allowedOperations: policy.allowedOperations.filter((o) => o !== "tasks/result") });
    try {
      const agent = await createAgent(admin);
      const { token, handle, upstreamId } = await issue(agent);
      expect(ext.complete(upstreamId)).toBe("completed");
      const ended = await waitFor(() => extCall(agent.apiKey, "tasks/get", { taskId: token }), (a) => a.body.result?.status === "completed", "completion");
      expect(ended.body.result).not.toHaveProperty("result");
      expect(ended.body.result!.statusMessage).toContain("does not allow fetching task results");
      expect(await getPrisma().auditEvent.count({ where: { action: "handle.result_fetched", targetId: handle.id } })).toBe(0);
    } finally {
      await setPolicy({ allowedOperations: policy.allowedOperations });
    }
  });

  it("refuses the same principal with another of its API keys (credential binding replaces the session)", async () => {
    const agent = await createAgent(admin);
    const { token, handle } = await issue(agent);
    const second = await createApiKey({ actor: admin, data: { principalId: agent.principalId, name: "second", expiresInDays: 1 } });
    expect(await expectNotFound(extCall(second.key, "tasks/get", { taskId: token }), handle.id)).toBe("credential_mismatch");
  });

  it("refuses another principal holding a stolen token: get, update and cancel", async () => {
    const [owner, thief] = [await createAgent(admin), await createAgent(admin)];
    const { token, handle } = await issue(owner);
    expect(await expectNotFound(extCall(thief.apiKey, "tasks/get", { taskId: token }), handle.id)).toBe("principal_mismatch");
    expect(await expectNotFound(extCall(thief.apiKey, "tasks/update", { taskId: token, inputResponses: {} }), handle.id)).toBe("principal_mismatch");
    expect(await expectNotFound(extCall(thief.apiKey, "tasks/cancel", { taskId: token }), handle.id)).toBe("principal_mismatch");
    expect((await getPrisma().handle.findUniqueOrThrow({ where: { id: handle.id } })).cancelState).toBe("none");
  });

  it("refuses the token at another server's endpoint (audience)", async () => {
    const agent = await createAgent(admin);
    const { token, handle } = await issue(agent);
    expect(await expectNotFound(extCall(agent.apiKey, "tasks/get", { taskId: token }, { slug: otherServer.slug }), handle.id)).toBe("audience_mismatch");
  });

  it("refuses the token for the very next call after a reviewer revokes it", async () => {
    const agent = await createAgent(admin);
    const { token, handle } = await issue(agent);
    expect((await extCall(agent.apiKey, "tasks/get", { taskId: token })).body.result).toBeDefined();
    const reviewer = actorFor(await createPrincipal(getPrisma(), { role: "reviewer" }));
    await revokeHandle({ actor: reviewer, data: { accessor: handle.accessor, reason: "suspicious use" } });
    expect(await expectNotFound(extCall(agent.apiKey, "tasks/get", { taskId: token }), handle.id)).toBe("revoked");
  });

  it("refuses an expired token before the sweeper has marked it", async () => {
    const agent = await createAgent(admin);
    const { token, handle } = await issue(agent);
    await getPrisma().handle.update({ where: { id: handle.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await expectNotFound(extCall(agent.apiKey, "tasks/get", { taskId: token }), handle.id)).toBe("expired");
  });

  it("refuses a token issued under a policy version that is no longer honoured", async () => {
    const agent = await createAgent(admin);
    const { token, handle } = await issue(agent);
    await setPolicy({ invalidateOlderVersions: true });
    expect(["policy_invalidated", "revoked"]).toContain(await expectNotFound(extCall(agent.apiKey, "tasks/get", { taskId: token }), handle.id));
  });

  it("revokes the key's handles when its API key is revoked, and the principal's when it is disabled", async () => {
    const agent = await createAgent(admin);
    const { handle } = await issue(agent);
    await revokeApiKey({ actor: admin, data: { keyId: agent.apiKeyId, reason: "key leaked" } });
    expect(await getPrisma().handle.findUniqueOrThrow({ where: { id: handle.id } })).toMatchObject({ revokeTrigger: "api_key_revoked" });
    const other = await createAgent(admin);
    const held = await issue(other);
    await setServiceAccountDisabled({ actor: admin, data: { principalId: other.principalId, disabled: true, reason: "offboarded" } });
    expect(await getPrisma().handle.findUniqueOrThrow({ where: { id: held.handle.id } })).toMatchObject({ revokeTrigger: "principal_disabled" });
  });

  it("refuses forged and altered tokens", async () => {
    const agent = await createAgent(admin);
    const { token } = await issue(agent);
    expect(await expectNotFound(extCall(agent.apiKey, "tasks/get", { taskId: `tht_${"x".repeat(43)}` }), null)).toBe("unknown");
    const changed = `${token.slice(0, -1)}${token.at(-1) === "A" ? "B" : "A"}`;
    expect(await expectNotFound(extCall(agent.apiKey, "tasks/get", { taskId: changed }), null)).toBe("unknown");
  });

  it("keeps the wires apart: a core handle on the extension wire, and an extension handle in a session, are refused", async () => {
    const agent = await createAgent(admin);
    const { token: extToken, handle: extHandle } = await issue(agent);
    const connected = await connectAgent(agent, server.slug === demoServer.slug ? server.slug : demoServer.slug);
    try {
      const core = await createTask(connected.client, "long_task", { seconds: 10 });
      secrets.add(core.taskId);
      const coreHandle = await getPrisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(core.taskId) } });
      expect(await expectNotFound(extCall(agent.apiKey, "tasks/get", { taskId: core.taskId }, { slug: demoServer.slug }), coreHandle.id)).toBe("wire_mismatch");
      // A session's tasks/list never offers the extension handle it could not use.
      expect((await connected.client.experimental.tasks.listTasks()).tasks.map((t) => t.taskId)).toEqual([core.taskId]);
      const inSession = await connected.client.experimental.tasks.getTask(extToken).then(
        () => null,
        (e: unknown) => e,
      );
      expect(inSession).toBeInstanceOf(Error);
      const denial = await getPrisma().auditEvent.findFirstOrThrow({ where: { action: "handle.denied", targetId: extHandle.id }, orderBy: { seq: "desc" } });
      // Presented at the demo server's endpoint: the audience is checked first.
      expect((denial.payload as { cause: string }).cause).toBe("audience_mismatch");
    } finally {
      await connected.client.close();
    }
  });

  it("answers tasks/list and tasks/result as methods that do not exist on this wire", async () => {
    const agent = await createAgent(admin);
    const { token } = await issue(agent);
    expect((await extCall(agent.apiKey, "tasks/list")).body.error).toMatchObject({ code: -32601 });
    expect((await extCall(agent.apiKey, "tasks/result", { taskId: token })).body.error).toMatchObject({ code: -32601 });
  });
});

describe("status on the extension wire", () => {
  it("rewrites notifications/tasks on a subscriptions/listen stream to the agent's token, and drops what is not the agent's", async () => {
    const [agent, other] = [await createAgent(admin), await createAgent(admin)];
    // Both stay working until the subscription is in place; then the test ends them.
    const mine = await issue(agent);
    const theirs = await issue(other);
    const response = await gatewayFetch(`${GATEWAY_ORIGIN}/mcp/${server.slug}`, {
      method: "POST",
      headers: { authorization: `Bearer ${agent.apiKey}`, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": VERSION, "mcp-method": "subscriptions/listen" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: rpcId++,
        method: "subscriptions/listen",
        params: {
          notifications: { taskIds: [mine.token, theirs.token] },
          _meta: { "io.modelcontextprotocol/protocolVersion": VERSION, "io.modelcontextprotocol/clientInfo": { name: "t", version: "1" }, "io.modelcontextprotocol/clientCapabilities": { extensions: { [EXT]: {} } } },
        },
      }),
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const stream = sseStream(response.body!);
    let messages: TSseMessage[];
    try {
      // The upstream acknowledges once it listens: from then on it pushes every change.
      await stream.until((ms) => ms.some((m) => m.method === "notifications/subscriptions/acknowledged"), "acknowledgement");
      // Theirs first: the upstream's stream is ordered, so a leak of it would arrive before mine's.
      expect(ext.complete(theirs.upstreamId)).toBe("completed");
      expect(ext.complete(mine.upstreamId)).toBe("completed");
      messages = await stream.until((ms) => ms.some((m) => m.method === "notifications/tasks" && m.params.status === "completed"), "completion notification");
    } finally {
      await stream.cancel();
    }
    expect(messages[0]).toMatchObject({ method: "notifications/subscriptions/acknowledged", params: { notifications: { taskIds: [mine.token] } } });
    const completed = messages.find((m) => m.method === "notifications/tasks" && m.params.status === "completed")!;
    expect(completed.params).toMatchObject({ taskId: mine.token, ttlMs: mine.handle.effectiveTtlMs, result: { content: [{ type: "text" }] } });
    expect(messages.filter((m) => m.method === "notifications/tasks").map((m) => m.params.taskId)).toEqual([mine.token]);
    for (const secret of [mine.upstreamId, theirs.upstreamId, theirs.token]) expect(stream.text()).not.toContain(secret);
    // The other agent's token was checked like any use, refused and audited.
    expect(await getPrisma().auditEvent.count({ where: { action: "handle.denied", targetId: theirs.handle.id } })).toBe(1);
  });

  it("is kept current by the status-sync worker with tasks/get framed for the extension", async () => {
    const agent = await createAgent(admin);
    const { handle, upstreamId } = await issue(agent);
    expect(ext.complete(upstreamId)).toBe("completed");
    const asked = ext.received.length;
    await getPrisma().handle.update({ where: { id: handle.id }, data: { nextPollAt: new Date(Date.now() - 1000) } });
    await waitFor(
      async () => {
        await syncHandleStatuses();
        return getPrisma().handle.findUniqueOrThrow({ where: { id: handle.id } });
      },
      (row) => row.status === "completed",
      "the worker to see completion",
    );
    const changed = await getPrisma().auditEvent.findFirstOrThrow({ where: { action: "handle.status_changed", targetId: handle.id } });
    expect(changed.payload).toMatchObject({ to: "completed" });
    // The worker asked with the extension's framing: the upstream id in the body and Mcp-Name, and the opt-in.
    expect(ext.received.slice(asked).find((r) => r.method === "tasks/get" && r.params.taskId === upstreamId)).toMatchObject({
      headers: { "mcp-name": upstreamId, authorization: `Bearer ${ext.bearerToken}` },
      params: { _meta: { "io.modelcontextprotocol/clientCapabilities": { extensions: { [EXT]: {} } } } },
    });
  });
});

describe("the console on the extension wire", () => {
  it("lets support cancel an extension handle: tasks/cancel upstream without a session, then the real status", async () => {
    const agent = await createAgent(admin);
    const { handle, upstreamId } = await issue(agent);
    const support = actorFor(await createPrincipal(getPrisma(), { role: "support" }));
    const dto = await cancelHandle({ actor: support, data: { accessor: handle.accessor, reason: "customer withdrew the request" } });
    expect(dto).toMatchObject({ wire: "ext_2026_07_28", cancelState: "confirmed", status: "cancelled" });
    expect(ext.task(upstreamId)!.status).toBe("cancelled");
    expect(ext.received.findLast((r) => r.method === "tasks/cancel")).toMatchObject({ headers: { "mcp-name": upstreamId, authorization: `Bearer ${ext.bearerToken}` } });
    const detail = await getHandle({ actor: support, accessor: handle.accessor });
    expect(detail).toMatchObject({ wire: "ext_2026_07_28", session: null });
  });
});

describe("official requester clients of both wires through the same Tether", () => {
  function v2Client(agent: TAgent, slug: string) {
    // Negotiated: server/discover first, initialize when the server has no 2026-07-28 answer.
    const client = new ClientV2({ name: "ext-tasks-agent", version: "1.0.0" }, { capabilities: {}, versionNegotiation: { mode: "auto" } });
    const transport = new TransportV2(new URL(`${GATEWAY_ORIGIN}/mcp/${slug}`), { fetch: gatewayFetch, requestInit: { headers: { Authorization: `Bearer ${agent.apiKey}` } } });
    return { client, transport };
  }

  it("a 2026-07-28 agent (ext-tasks over SDK 2.x) calls a task tool on the extension server and settles it", async () => {
    const agent = await createAgent(admin);
    const { client, transport } = v2Client(agent, server.slug);
    await client.connect(transport);
    expect(client.getProtocolEra()).toBe("modern");
    // The host's request path for the extension's shapes (the SDK's codecs reject them): a plain
    // JSON-RPC POST with the routing headers ext-tasks asks for (Mcp-Name for tasks/*).
    const rawDispatch = async (request: unknown, options?: { context?: { headers?: Record<string, string> } }) => {
      const { method } = request as { method: string };
      const response = await gatewayFetch(`${GATEWAY_ORIGIN}/mcp/${server.slug}`, {
        method: "POST",
        headers: { ...options?.context?.headers, authorization: `Bearer ${agent.apiKey}`, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": VERSION, "mcp-method": method },
        body: JSON.stringify({ jsonrpc: "2.0", id: rpcId++, ...(request as object) }),
      });
      const answer = (await response.json()) as { result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } };
      return answer.error ? { kind: "error" as const, error: answer.error } : { kind: "result" as const, result: answer.result as never };
    };
    const session = createTaskSessionFromClient(client, {
      endpointId: `tether-${server.slug}`,
      rawDispatch: rawDispatch as never,
      v2RequestFraming: { protocolVersion: VERSION, clientInfo: { name: "ext-tasks-agent", version: "1.0.0" }, clientCapabilities: {} },
    });
    try {
      const execution = await session.callTool("slow_task", { seconds: 0.2 });
      const { outcome } = await execution.settle();
      expect(resultFromTaskOutcome(outcome)).toMatchObject({ content: [{ type: "text", text: "done after 0.2 s" }] });
    } finally {
      await session.close();
      await client.close();
    }
    const handle = await getPrisma().handle.findFirstOrThrow({ where: { principalId: agent.principalId } });
    expect(handle).toMatchObject({ wire: "ext_2026_07_28", sessionId: null, status: "completed" });
  });

  it("a 2025-11-25 agent (ext-tasks over SDK 2.x) does the same against a core-tasks server", async () => {
    const agent = await createAgent(admin);
    const { client, transport } = v2Client(agent, demoServer.slug);
    await client.connect(transport);
    expect(client.getProtocolEra()).toBe("legacy");
    const session = createTaskSessionFromClient(client, { endpointId: `tether-${demoServer.slug}` });
    try {
      const execution = await session.callTool("long_task", { seconds: 0.2 }, { task: { preference: "require" } });
      const { outcome } = await execution.settle();
      expect(resultFromTaskOutcome(outcome)).toMatchObject({ content: [{ type: "text" }] });
    } finally {
      await session.close();
      await client.close();
    }
    const handle = await getPrisma().handle.findFirstOrThrow({ where: { principalId: agent.principalId } });
    expect(handle).toMatchObject({ wire: "core_2025_11_25", serverId: demoServer.id });
    expect(handle.sessionId).not.toBeNull();
  });
});

describe("secrecy", () => {
  it("never writes a token or an upstream task id to a log line or an audit row", async () => {
    expect(secrets.size).toBeGreaterThan(10);
    const text = logs.text();
    const audit = await getPrisma().$queryRaw<Array<{ row: string }>>`SELECT row_to_json(e)::text AS row FROM audit_event e`;
    const rows = audit.map((r) => r.row).join("\n");
    for (const secret of secrets) {
      expect(text.includes(secret), "a secret in the logs").toBe(false);
      expect(rows.includes(secret), "a secret in the audit trail").toBe(false);
    }
  });
});
