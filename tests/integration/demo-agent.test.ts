// `npm run demo:agent`'s core against the gateway's real handlers (the harness routes the SDK
// client's HTTP into them), the demo upstream and the run's Postgres: every expectation of a round
// holds, two agents can play at once, the log never carries a whole token, and the handle table
// and audit trail show what the agents did.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { runDemoAgent } from "@/lib/demo-agent/run-demo-agent";
import { runDemoAgents } from "@/lib/demo-agent/run-demo-agents";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { actorFor, createPrincipal } from "../factories/principals";
import { setUpTestSecrets } from "./support/env";
import { GATEWAY_ORIGIN, captureLogs, createAgent, gatewayFetch, registerServer, startDemoServer, type TAgent } from "./support/gateway";
import { setUpOwnDatabase } from "./support/own-database";

setUpOwnDatabase();
setUpTestSecrets();

let demo: Awaited<ReturnType<typeof startDemoServer>>;
let gatewayUrl: string;
let serverId: string;
let owner: TAgent;
let thief: TAgent;
let logs: ReturnType<typeof captureLogs>;

const quick = { longTaskSeconds: [0.3, 1.2], failingTaskSeconds: 0.3, timeoutMs: 30_000 };

beforeAll(async () => {
  logs = captureLogs();
  await ensureDefaultPolicy(getPrisma(), systemActor("test", `demo-agent-test-${randomUUID()}`));
  demo = await startDemoServer();
  const server = await registerServer({ url: demo.url, bearerToken: demo.bearerToken });
  gatewayUrl = `${GATEWAY_ORIGIN}/mcp/${server.slug}`;
  serverId = server.id;
  const admin = actorFor(await createPrincipal(getPrisma(), { role: "admin" }));
  [owner, thief] = await Promise.all([createAgent(admin, "demo-owner"), createAgent(admin, "demo-thief")]);
}, 30_000);

afterAll(async () => {
  await demo?.close();
  logs?.restore();
});

describe("the demo agent", () => {
  it("plays a full round through the gateway and every expectation holds", async () => {
    const lines: string[] = [];
    const report = await runDemoAgent({ gatewayUrl, apiKey: owner.apiKey, thiefApiKey: thief.apiKey, fetch: gatewayFetch, name: "agent-1", log: (l) => lines.push(l), ...quick });

    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.tasks.map((t) => [t.tool, t.status])).toEqual([
      ["long_task", "completed"],
      ["long_task", "completed"],
      ["failing_task", "failed"],
      ["queued_task", "cancelled"],
      ["input_task", "completed"],
    ]);
    // It polled, and no faster than the upstream's pollInterval allows (1 s): ~2 polls for 1.2 s of work.
    expect(report.polls).toBeGreaterThan(3);
    expect(report.polls).toBeLessThan(30);

    // The log shows tokens only shortened.
    const text = lines.join("\n");
    expect(text).toMatch(/tht_[A-Za-z0-9_-]{4}…/);
    for (const t of report.tasks) expect(text).not.toContain(t.token);
    expect(text).not.toContain(owner.apiKey);
    expect(text).not.toContain(thief.apiKey);

    // What Tether recorded: the owner's handles with their final states, the thief's refusals.
    const handles = await getPrisma().handle.findMany({ where: { principalId: owner.principalId, serverId }, select: { toolName: true, status: true, cancelState: true } });
    expect(handles).toHaveLength(5);
    expect(handles.filter((h) => h.toolName === "long_task").map((h) => h.status)).toEqual(["completed", "completed"]);
    expect(handles.find((h) => h.toolName === "failing_task")?.status).toBe("failed");
    const denials = await getPrisma().auditEvent.findMany({ where: { action: "handle.denied", actorId: thief.principalId }, select: { payload: true } });
    const causes = denials.map((d) => (d.payload as { cause: string; operation: string }).cause);
    expect(causes.filter((c) => c === "principal_mismatch")).toHaveLength(3);
    expect(causes.filter((c) => c === "unknown")).toHaveLength(1);
    expect(await getPrisma().handle.count({ where: { principalId: thief.principalId } })).toBe(0);
  }, 60_000);

  it("runs two agents in parallel, each one's thief being the other", async () => {
    const lines: string[] = [];
    const summary = await runDemoAgents({ gatewayUrl, apiKeys: [owner.apiKey, thief.apiKey], agents: 2, loop: false, fetch: gatewayFetch, log: (l) => lines.push(l), ...quick, withInputTask: false });
    expect(summary.failures).toEqual([]);
    expect(summary).toMatchObject({ ok: true, rounds: 2, failedRounds: 0, tasksByStatus: { completed: 4, failed: 2, cancelled: 2 } });
    expect(lines.some((l) => l.startsWith("[agent-1]"))).toBe(true);
    expect(lines.some((l) => l.startsWith("[agent-2]"))).toBe(true);
  }, 60_000);

  it("fails loudly, not silently, when a key does not authenticate", async () => {
    const summary = await runDemoAgents({ gatewayUrl, apiKeys: [owner.apiKey, "tth_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"], agents: 1, loop: false, fetch: gatewayFetch, ...quick });
    expect(summary.ok).toBe(false);
    expect(summary.failures.join("\n")).toMatch(/agent-1 could not play/);
  }, 30_000);
});
