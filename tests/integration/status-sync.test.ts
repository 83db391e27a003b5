// The status-sync worker against real upstreams: handle statuses follow the upstream tasks with no
// agent polling, transitions are audited by the system, two workers share the work without
// polling a handle twice, an upstream that goes away backs the handle off, and a task the
// upstream forgot becomes `expired_upstream`.
import { randomUUID } from "node:crypto";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { handleTokenHash } from "@/lib/gateway/handle-token";
import { requestEarlyPoll } from "@/lib/handles/request-early-poll";
import { syncHandleStatuses } from "@/lib/handles/sync-handle-statuses";
import { getServer } from "@/lib/servers/get-server";
import { setServerPolling } from "@/lib/servers/set-server-polling";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { actorFor, createPrincipal } from "../factories/principals";
import { setUpTestSecrets } from "./support/env";
import { connectAgent, createAgent, createTask, registerServer, startDemoServer, type TAgent, type TConnectedAgent } from "./support/gateway";
import { setUpOwnDatabase } from "./support/own-database";

setUpOwnDatabase();
setUpTestSecrets();

let demo: Awaited<ReturnType<typeof startDemoServer>>;
let server: { id: string; slug: string };
let agent: TAgent;
const open: TConnectedAgent[] = [];

async function handleFor(token: string) {
  return getPrisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(token) } });
}

/** Runs sync rounds (making every handle due first) until `done` holds. */
async function syncUntil(done: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error("the handle never reached the expected state");
    await getPrisma().handle.updateMany({ where: { serverId: server.id }, data: { nextPollAt: null, pollLeaseUntil: null } });
    await syncHandleStatuses();
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  await ensureDefaultPolicy(getPrisma(), systemActor("test", `sync-test-${randomUUID()}`));
  demo = await startDemoServer();
  server = await registerServer({ url: demo.url, bearerToken: demo.bearerToken });
  agent = await createAgent(actorFor(await createPrincipal(getPrisma(), { role: "admin" })));
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(open.map((c) => c.client.close()));
  await demo?.close();
});

describe("status sync", () => {
  it("follows working → completed and working → failed without the agent polling, audited as the system", async () => {
    const connected = await connectAgent(agent, server.slug);
    open.push(connected);
    const ok = await createTask(connected.client, "long_task", { seconds: 0.5 });
    const bad = await createTask(connected.client, "failing_task", { seconds: 0.5 });
    await syncUntil(async () => (await handleFor(ok.taskId)).status === "completed" && (await handleFor(bad.taskId)).status === "failed");
    const handle = await handleFor(ok.taskId);
    expect(handle.lastPolledAt).not.toBeNull();
    expect(handle.useCount).toBe(0); // polls by Tether are not uses by the agent
    const events = await getPrisma().auditEvent.findMany({ where: { targetId: handle.id, action: "handle.status_changed" } });
    expect(events.at(-1)).toMatchObject({ actorType: "system", payload: expect.objectContaining({ to: "completed", source: "poller" }) });
  });

  it("records input_required while the task waits for its requestor", async () => {
    const connected = await connectAgent(agent, server.slug, () => ({ action: "decline" }));
    open.push(connected);
    const task = await createTask(connected.client, "input_task", { question: "Proceed?" });
    await syncUntil(async () => (await handleFor(task.taskId)).status === "input_required");
    expect((await handleFor(task.taskId)).statusMessage).toBe("waiting for an answer to: Proceed?");
  });

  it("lets two workers share the due handles without polling one twice", async () => {
    const connected = await connectAgent(agent, server.slug);
    open.push(connected);
    for (let i = 0; i < 30; i++) await createTask(connected.client, "long_task", { seconds: 60 });
    await getPrisma().handle.updateMany({ where: { serverId: server.id }, data: { nextPollAt: null, pollLeaseUntil: null } });
    const [a, b] = await Promise.all([syncHandleStatuses({ limit: 20 }), syncHandleStatuses({ limit: 20 })]);
    const live = await getPrisma().handle.count({ where: { serverId: server.id, status: { in: ["working", "input_required"] }, revokedAt: null } });
    expect(a.claimed + b.claimed).toBe(Math.min(40, live));
    // A claimed handle is leased until its poll is recorded: a third round right away finds only the rest.
    const c = await syncHandleStatuses({ limit: 100 });
    expect(a.claimed + b.claimed + c.claimed).toBe(live);
    // The Servers page's view of it: running tasks, confirmed upstream moments ago.
    const viewer = actorFor(await createPrincipal(getPrisma(), { role: "viewer" }));
    const dto = await getServer({ actor: viewer, serverId: server.id });
    expect(dto.sync.oldestRunningAt).not.toBeNull();
    expect(dto.sync.pollLagP95Ms).toBeLessThan(10_000);
    expect(dto.sync.failingPolls).toBe(0);
  }, 30_000);

  it("refreshes several handles of one upstream session with one tasks/list where the upstream lists tasks", async () => {
    // A counting relay in front of the demo upstream, registered as its own server.
    const calls: string[] = [];
    const target = new URL(demo.url);
    const relay = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        if (body.length) calls.push((JSON.parse(body.toString()) as { method?: string }).method ?? "response");
        const forward = httpRequest(
          { host: target.hostname, port: target.port, path: target.pathname, method: req.method, headers: { ...req.headers, host: target.host } },
          (upstream) => {
            res.writeHead(upstream.statusCode ?? 502, upstream.headers);
            upstream.pipe(res);
          },
        );
        forward.end(body);
      });
    });
    await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
    try {
      const counted = await registerServer({ url: `http://127.0.0.1:${(relay.address() as AddressInfo).port}/mcp`, bearerToken: demo.bearerToken });
      await getPrisma().mcpServer.update({ where: { id: counted.id }, data: { capabilities: { tools: true, resources: false, prompts: false, logging: false, completions: false, tasks: { list: true, cancel: true, toolsCall: true }, extensions: [] } } });
      const connected = await connectAgent(agent, counted.slug);
      open.push(connected);
      const tokens = [];
      for (let i = 0; i < 5; i++) tokens.push((await createTask(connected.client, "long_task", { seconds: i === 0 ? 0.2 : 60 })).taskId);
      await new Promise((r) => setTimeout(r, 400));
      await getPrisma().handle.updateMany({ where: { serverId: counted.id }, data: { nextPollAt: null, pollLeaseUntil: null } });
      calls.length = 0;
      const round = await syncHandleStatuses({ limit: 500 });
      expect(round.polled).toBeGreaterThanOrEqual(5);
      expect(calls.filter((m) => m === "tasks/list")).toHaveLength(1);
      expect(calls.filter((m) => m === "tasks/get")).toHaveLength(0);
      expect((await handleFor(tokens[0]!)).status).toBe("completed");
      expect((await handleFor(tokens[1]!)).lastPolledAt).not.toBeNull();
    } finally {
      relay.closeAllConnections(); // the agent's GET stream would keep it open
      await new Promise<void>((r) => relay.close(() => r()));
    }
  });

  it("polls early on an upstream status hint, but never alongside a poll in flight", async () => {
    const connected = await connectAgent(agent, server.slug);
    open.push(connected);
    const task = await createTask(connected.client, "long_task", { seconds: 60 });
    const handle = await handleFor(task.taskId);
    const later = new Date(Date.now() + 60_000);
    await getPrisma().handle.updateMany({ data: { nextPollAt: later, pollLeaseUntil: null } });
    await requestEarlyPoll(handle.id);
    expect((await handleFor(task.taskId)).nextPollAt!.getTime()).toBeLessThanOrEqual(Date.now());
    // Held by a worker (leased): the hint moves the next poll, not the lease, so nobody else claims it.
    await getPrisma().handle.update({ where: { id: handle.id }, data: { pollLeaseUntil: later, nextPollAt: later } });
    await requestEarlyPoll(handle.id);
    expect((await syncHandleStatuses({ limit: 500 })).claimed).toBe(0);
    await getPrisma().handle.update({ where: { id: handle.id }, data: { pollLeaseUntil: null } });
    expect((await syncHandleStatuses({ limit: 500 })).claimed).toBe(1);
  });

  it("skips a server whose polling an admin paused (audited, with a reason), and resumes", async () => {
    const admin = actorFor(await createPrincipal(getPrisma(), { role: "admin" }));
    const reviewer = actorFor(await createPrincipal(getPrisma(), { role: "reviewer" }));
    const connected = await connectAgent(agent, server.slug);
    open.push(connected);
    await createTask(connected.client, "long_task", { seconds: 60 });
    await expect(setServerPolling({ actor: reviewer, data: { serverId: server.id, paused: true, reason: "maintenance" } })).rejects.toMatchObject({ status: 403 });
    await expect(setServerPolling({ actor: admin, data: { serverId: server.id, paused: true } })).rejects.toMatchObject({ status: 422 });
    const paused = await setServerPolling({ actor: admin, data: { serverId: server.id, paused: true, reason: "upstream maintenance window" } });
    expect(paused.pollingPaused).toBe(true);
    expect(await getPrisma().auditEvent.findFirst({ where: { targetId: server.id, action: "server.polling_paused" } })).toMatchObject({ reason: "upstream maintenance window" });
    await expect(setServerPolling({ actor: admin, data: { serverId: server.id, paused: true, reason: "again" } })).rejects.toMatchObject({ status: 409 });
    await getPrisma().handle.updateMany({ where: { serverId: server.id }, data: { nextPollAt: null, pollLeaseUntil: null } });
    expect((await syncHandleStatuses({ limit: 500 })).claimed).toBe(0);
    await setServerPolling({ actor: admin, data: { serverId: server.id, paused: false, reason: "maintenance over" } });
    expect((await syncHandleStatuses({ limit: 500 })).claimed).toBeGreaterThan(0);
  });

  it("backs off while the upstream is down, and marks a task the upstream forgot as expired upstream", async () => {
    const connected = await connectAgent(agent, server.slug);
    open.push(connected);
    const task = await createTask(connected.client, "long_task", { seconds: 60 });
    await demo.close();
    await getPrisma().handle.updateMany({ where: { serverId: server.id }, data: { nextPollAt: null, pollLeaseUntil: null } });
    await syncHandleStatuses({ limit: 500 });
    const down = await handleFor(task.taskId);
    expect(down.status).toBe("working");
    expect(down.pollFailures).toBe(1);
    expect(down.nextPollAt!.getTime()).toBeGreaterThan(Date.now());
    expect(down.pollLeaseUntil).toBeNull();

    // The upstream comes back empty (a restart): it no longer knows the task.
    demo = await startDemoServer();
    const { encryptSecret } = await import("@/lib/crypto/secrets");
    const { serverCredentialsContext } = await import("@/lib/gateway/upstream");
    await getPrisma().mcpServer.update({
      where: { id: server.id },
      data: { url: demo.url, credentialsEnc: encryptSecret(JSON.stringify({ type: "bearer", token: demo.bearerToken }), serverCredentialsContext(server.slug)) },
    });
    await syncUntil(async () => (await handleFor(task.taskId)).status !== "working");
    const gone = await handleFor(task.taskId);
    // A restarted SDK upstream forgets the session too (HTTP 404 for it): the task is gone.
    expect(gone).toMatchObject({ status: "expired_upstream", pollFailures: 0 });
    const event = await getPrisma().auditEvent.findFirst({ where: { targetId: gone.id, action: "handle.status_changed" }, orderBy: { seq: "desc" } });
    expect(event?.payload).toMatchObject({ from: "working", to: "expired_upstream", source: "poller" });
  }, 30_000);
});
