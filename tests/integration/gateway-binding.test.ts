// The binding matrix: a handle token works only for the principal that holds it, in its session
// (when the policy binds sessions), at the server that minted it, while it is neither revoked nor
// expired nor issued under an invalidated policy. Every refusal looks exactly like an unknown
// task to the caller and is audited with its real cause. Each case is its own test.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Client as SdkClient } from "@modelcontextprotocol/sdk/client/index.js";
import { CallToolResultSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import { createApiKey } from "@/lib/api-keys/create-api-key";
import { revokeApiKey } from "@/lib/api-keys/revoke-api-key";
import { setServiceAccountDisabled } from "@/lib/api-keys/set-service-account-disabled";
import { systemActor, type TActor } from "@/lib/auth/actor";
import { decryptSecret } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { HANDLE_TOKEN_PATTERN, handleTokenHash, upstreamTaskContext } from "@/lib/gateway/handle-token";
import { TASK_NOT_FOUND_MESSAGE } from "@/lib/gateway/jsonrpc";
import { revokeHandle } from "@/lib/handles/revoke-handle";
import { sweepExpiredHandles } from "@/lib/handles/sweep-expired-handles";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { getCurrentPolicy } from "@/lib/policy/get-current-policy";
import { actorFor, createPrincipal } from "../factories/principals";
import { setUpTestSecrets } from "./support/env";
import {
  GATEWAY_ORIGIN,
  captureLogs,
  connectAgent,
  createAgent,
  createTask,
  gatewayFetch,
  registerServer,
  startDemoServer,
  type TAgent,
  type TConnectedAgent,
} from "./support/gateway";
import { setUpOwnDatabase } from "./support/own-database";
import { setPolicyFields } from "./support/policy";

setUpOwnDatabase();
setUpTestSecrets();

let demo: Awaited<ReturnType<typeof startDemoServer>>;
let otherDemo: Awaited<ReturnType<typeof startDemoServer>>;
let server: { id: string; slug: string };
let otherServer: { id: string; slug: string };
let admin: TActor;
const open: TConnectedAgent[] = [];
let logs: ReturnType<typeof captureLogs>;
/** Every token and upstream id the tests saw, to scan logs and audit rows for at the end. */
const secrets = new Set<string>();

async function connect(agent: { apiKey: string }, slug = server.slug): Promise<TConnectedAgent> {
  const connected = await connectAgent(agent, slug);
  open.push(connected);
  return connected;
}

/** A running task (10 s) owned by `agent` in a fresh session; returns its token and handle row. */
async function issue(agent: TAgent, slug = server.slug) {
  const owner = await connect(agent, slug);
  const task = await createTask(owner.client, "long_task", { seconds: 10 });
  expect(task.taskId).toMatch(HANDLE_TOKEN_PATTERN);
  const handle = await getPrisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(task.taskId) } });
  secrets.add(task.taskId);
  secrets.add(decryptSecret(handle.upstreamTaskIdEnc, upstreamTaskContext(handle.id)));
  return { owner, token: task.taskId, handle };
}

/** Asserts the call was answered exactly like an unknown task, and returns the recorded cause. */
async function expectNotFound(call: Promise<unknown>, handleId: string | null): Promise<string> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, "the call should have been refused").toBeInstanceOf(McpError);
  expect((error as McpError).code).toBe(-32602);
  expect((error as McpError).message).toBe(`MCP error -32602: ${TASK_NOT_FOUND_MESSAGE}`);
  const denial = await getPrisma().auditEvent.findFirst({
    where: { action: "handle.denied", ...(handleId ? { targetId: handleId } : {}) },
    orderBy: { seq: "desc" },
  });
  expect(denial).not.toBeNull();
  expect(denial!.outcome).toBe("denied");
  return (denial!.payload as { cause: string }).cause;
}

async function setPolicy(overrides: Record<string, unknown>) {
  await setPolicyFields(admin, overrides, "binding test");
}

beforeAll(async () => {
  logs = captureLogs();
  await ensureDefaultPolicy(getPrisma(), systemActor("test", `binding-test-${randomUUID()}`));
  [demo, otherDemo] = await Promise.all([startDemoServer(), startDemoServer()]);
  server = await registerServer({ url: demo.url, bearerToken: demo.bearerToken });
  otherServer = await registerServer({ url: otherDemo.url, bearerToken: otherDemo.bearerToken });
  admin = actorFor(await createPrincipal(getPrisma(), { role: "admin" }));
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(open.map((c) => c.client.close()));
  await Promise.allSettled([demo?.close(), otherDemo?.close()]);
  logs?.restore();
});

describe("the binding matrix", () => {
  it("allows the owner in the same session: get, result and cancel", async () => {
    const agent = await createAgent(admin);
    const { owner, token, handle } = await issue(agent);
    const got = await owner.client.experimental.tasks.getTask(token);
    expect(got).toMatchObject({ taskId: token, status: "working" });
    const cancelled = await owner.client.experimental.tasks.cancelTask(token);
    expect(cancelled).toMatchObject({ taskId: token, status: "cancelled" });
    const row = await getPrisma().handle.findUniqueOrThrow({ where: { id: handle.id } });
    expect(row).toMatchObject({ status: "cancelled", cancelState: "confirmed" });
    const fast = await createTask(owner.client, "long_task", { seconds: 0.2 });
    secrets.add(fast.taskId);
    const result = await owner.client.experimental.tasks.getTaskResult(fast.taskId, CallToolResultSchema);
    expect(result.content[0]).toMatchObject({ type: "text" });
  });

  it("refuses the same principal in another session while the policy binds sessions", async () => {
    const agent = await createAgent(admin);
    const { token, handle } = await issue(agent);
    const second = await connect(agent);
    expect(await expectNotFound(second.client.experimental.tasks.getTask(token), handle.id)).toBe("session_mismatch");
  });

  it("refuses another principal holding a stolen token", async () => {
    const [owner, thief] = [await createAgent(admin), await createAgent(admin)];
    const { token, handle } = await issue(owner);
    const stolen = await connect(thief);
    expect(await expectNotFound(stolen.client.experimental.tasks.getTask(token), handle.id)).toBe("principal_mismatch");
    expect(await expectNotFound(stolen.client.experimental.tasks.cancelTask(token), handle.id)).toBe("principal_mismatch");
    expect(await expectNotFound(stolen.client.experimental.tasks.getTaskResult(token, CallToolResultSchema), handle.id)).toBe("principal_mismatch");
    expect((await getPrisma().handle.findUniqueOrThrow({ where: { id: handle.id } })).cancelState).toBe("none");
  });

  it("refuses the token at another server's endpoint (audience)", async () => {
    const agent = await createAgent(admin);
    const { token, handle } = await issue(agent);
    const elsewhere = await connect(agent, otherServer.slug);
    expect(await expectNotFound(elsewhere.client.experimental.tasks.getTask(token), handle.id)).toBe("audience_mismatch");
  });

  it("refuses the token for the very next call after a reviewer revokes it", async () => {
    const agent = await createAgent(admin);
    const { owner, token, handle } = await issue(agent);
    await owner.client.experimental.tasks.getTask(token);
    const reviewer = actorFor(await createPrincipal(getPrisma(), { role: "reviewer" }));
    await revokeHandle({ actor: reviewer, data: { accessor: handle.accessor, reason: "suspicious use" } });
    expect(await expectNotFound(owner.client.experimental.tasks.getTask(token), handle.id)).toBe("revoked");
  });

  it("refuses an expired token before the sweeper has marked it, and the sweeper then marks it once", async () => {
    const agent = await createAgent(admin);
    const { owner, token, handle } = await issue(agent);
    await getPrisma().handle.update({ where: { id: handle.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await expectNotFound(owner.client.experimental.tasks.getTask(token), handle.id)).toBe("expired");
    expect(await sweepExpiredHandles()).toBeGreaterThanOrEqual(1);
    expect((await getPrisma().handle.findUniqueOrThrow({ where: { id: handle.id } })).expiredAt).not.toBeNull();
    expect(await getPrisma().auditEvent.count({ where: { targetId: handle.id, action: "handle.expired" } })).toBe(1);
    await sweepExpiredHandles();
    expect(await getPrisma().auditEvent.count({ where: { targetId: handle.id, action: "handle.expired" } })).toBe(1);
  });

  it("refuses a token issued under a policy version that is no longer honoured", async () => {
    const agent = await createAgent(admin);
    const { owner, token, handle } = await issue(agent);
    await setPolicy({ invalidateOlderVersions: true });
    const cause = await expectNotFound(owner.client.experimental.tasks.getTask(token), handle.id);
    expect(["policy_invalidated", "revoked"]).toContain(cause);
  });

  it("revokes the session's handles when the agent ends its session", async () => {
    const agent = await createAgent(admin);
    const { owner, token, handle } = await issue(agent);
    await owner.transport.terminateSession();
    const row = await getPrisma().handle.findUniqueOrThrow({ where: { id: handle.id } });
    expect(row).toMatchObject({ revokeTrigger: "session_ended" });
    expect(await getPrisma().gatewaySession.findUniqueOrThrow({ where: { id: handle.sessionId! } })).toMatchObject({ endReason: "client_ended" });
    const again = await connect(agent);
    expect(await expectNotFound(again.client.experimental.tasks.getTask(token), handle.id)).toBe("session_mismatch");
  });

  it("revokes the key's handles when the API key is revoked, even for a second key in the same session", async () => {
    const agent = await createAgent(admin);
    const { owner, token, handle } = await issue(agent);
    const second = await createApiKey({ actor: admin, data: { principalId: agent.principalId, name: "second", expiresInDays: 1 } });
    await revokeApiKey({ actor: admin, data: { keyId: agent.apiKeyId, reason: "key leaked" } });
    expect(await getPrisma().handle.findUniqueOrThrow({ where: { id: handle.id } })).toMatchObject({ revokeTrigger: "api_key_revoked" });
    // The revoked key itself no longer authenticates at all.
    await expect(owner.client.experimental.tasks.getTask(token)).rejects.toThrow();
    // The same session, continued with the agent's other key: the handle is still refused.
    const transport = new StreamableHTTPClientTransport(new URL(`${GATEWAY_ORIGIN}/mcp/${server.slug}`), {
      fetch: gatewayFetch,
      sessionId: owner.transport.sessionId!,
      requestInit: { headers: { Authorization: `Bearer ${second.key}` } },
    });
    const client = new SdkClient({ name: "continued", version: "0" });
    await client.connect(transport);
    open.push({ client, transport });
    expect(await expectNotFound(client.experimental.tasks.getTask(token), handle.id)).toBe("revoked");
  });

  it("revokes everything the agent holds when its account is disabled", async () => {
    const agent = await createAgent(admin);
    const { handle } = await issue(agent);
    await setServiceAccountDisabled({ actor: admin, data: { principalId: agent.principalId, disabled: true, reason: "offboarded" } });
    expect(await getPrisma().handle.findUniqueOrThrow({ where: { id: handle.id } })).toMatchObject({ revokeTrigger: "principal_disabled" });
    expect((await getPrisma().gatewaySession.findUniqueOrThrow({ where: { id: handle.sessionId! } })).endReason).toBe("principal_disabled");
  });

  it("refuses a forged token", async () => {
    const agent = await createAgent(admin);
    const { owner } = await issue(agent);
    expect(await expectNotFound(owner.client.experimental.tasks.getTask(`tht_${"x".repeat(43)}`), null)).toBe("unknown");
    expect(await expectNotFound(owner.client.experimental.tasks.getTask("not-even-a-token"), null)).toBe("unknown");
  });

  it("refuses a token with one character changed", async () => {
    const agent = await createAgent(admin);
    const { owner, token } = await issue(agent);
    const last = token.at(-1)!;
    const changed = `${token.slice(0, -1)}${last === "A" ? "B" : "A"}`;
    expect(await expectNotFound(owner.client.experimental.tasks.getTask(changed), null)).toBe("unknown");
  });

  it("never lists another principal's handles, nor another session's", async () => {
    const [a, b] = [await createAgent(admin), await createAgent(admin)];
    const mine = await issue(a);
    const theirs = await issue(b);
    const mineListed = await mine.owner.client.experimental.tasks.listTasks();
    expect(mineListed.tasks.map((t) => t.taskId)).toEqual([mine.token]);
    const theirsListed = await theirs.owner.client.experimental.tasks.listTasks();
    expect(theirsListed.tasks.map((t) => t.taskId)).toEqual([theirs.token]);
    const otherSession = await connect(a);
    expect((await otherSession.client.experimental.tasks.listTasks()).tasks).toEqual([]);
  });

  it("allows the same principal in another session when the policy does not bind sessions", async () => {
    await setPolicy({ requireSessionBinding: false });
    try {
      const agent = await createAgent(admin);
      const { token } = await issue(agent);
      const second = await connect(agent);
      expect(await second.client.experimental.tasks.getTask(token)).toMatchObject({ taskId: token });
    } finally {
      await setPolicy({ requireSessionBinding: true });
    }
  });
});

describe("limits", () => {
  it("refuses a new task beyond the live-handle cap with a clear error and starts nothing upstream", async () => {
    await setPolicy({ maxLiveHandlesPerPrincipal: 2 });
    try {
      const agent = await createAgent(admin);
      const { owner } = await issue(agent);
      await createTask(owner.client, "long_task", { seconds: 10 });
      const error = await createTask(owner.client, "long_task", { seconds: 10 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(McpError);
      expect((error as McpError).message).toContain("Task handle limit reached: this agent holds 2 live task handles and the policy allows 2");
      expect(await getPrisma().handle.count({ where: { principalId: agent.principalId } })).toBe(2);
    } finally {
      await setPolicy({ maxLiveHandlesPerPrincipal: 100 });
    }
  });

  it("clamps the TTL to the policy maximum and never leaves it unlimited", async () => {
    const agent = await createAgent(admin);
    const owner = await connect(agent);
    const policy = await getCurrentPolicy();
    const long = await createTask(owner.client, "long_task", { seconds: 1 }, { ttl: policy.maxTtlMs * 10 });
    const unspecified = await createTask(owner.client, "long_task", { seconds: 1 });
    secrets.add(long.taskId).add(unspecified.taskId);
    expect(long.ttl).toBe(policy.maxTtlMs);
    expect(unspecified.ttl).toBe(policy.defaultTtlMs);
    const row = await getPrisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(long.taskId) } });
    expect(row).toMatchObject({ requestedTtlMs: policy.maxTtlMs * 10, effectiveTtlMs: policy.maxTtlMs });
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBe(policy.maxTtlMs);
  });
});

describe("secrecy", () => {
  it("never writes a token or an upstream task id to a log line or an audit row", async () => {
    expect(secrets.size).toBeGreaterThan(10);
    const text = logs.text();
    const audit = await getPrisma().$queryRaw<Array<{ row: string }>>`SELECT row_to_json(e)::text AS row FROM audit_event e`;
    const sessions = await getPrisma().$queryRaw<Array<{ row: string }>>`SELECT row_to_json(s)::text AS row FROM gateway_session s`;
    const rows = [...audit, ...sessions].map((r) => r.row).join("\n");
    for (const secret of secrets) {
      expect(text.includes(secret), "a secret in the logs").toBe(false);
      expect(rows.includes(secret), "a secret in the audit trail or session table").toBe(false);
    }
  });
});
