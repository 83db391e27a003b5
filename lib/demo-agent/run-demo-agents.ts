// Several demo agents at once, for one round or in a loop until asked to stop. Agents take the
// given API keys in turn; each one's thief is the next key, so a stolen token is always
// presented by a different principal.
import { setTimeout as sleep } from "node:timers/promises";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { openDemoAgent, runDemoRound, type TDemoAgentRoundOptions, type TDemoRoundReport } from "./run-demo-agent";

export type TDemoRunOptions = TDemoAgentRoundOptions & {
  gatewayUrl: string;
  /** At least two keys of different agents. */
  apiKeys: string[];
  agents: number;
  /** Keep playing rounds until `stop` is aborted. */
  loop: boolean;
  stop?: AbortSignal;
  fetch?: FetchLike;
  log?: (line: string) => void;
};

export type TDemoRunSummary = {
  ok: boolean;
  rounds: number;
  failedRounds: number;
  checks: { passed: number; failed: number };
  failures: string[];
  tasksByStatus: Record<string, number>;
  polls: number;
  durationMs: number;
};

/** Loop rounds vary a little, so the inventory fills with tasks of different lengths. */
function loopRoundOptions(base: TDemoAgentRoundOptions, round: number): TDemoAgentRoundOptions {
  if (round === 1) return base;
  const pick = (min: number, max: number) => Math.round((min + Math.random() * (max - min)) * 10) / 10;
  return { ...base, longTaskSeconds: [pick(1, 4), pick(2, 8)], failingTaskSeconds: pick(1, 4), withInputTask: base.withInputTask !== false && round % 2 === 0 };
}

export async function runDemoAgents(options: TDemoRunOptions): Promise<TDemoRunSummary> {
  if (options.apiKeys.length < 2) throw new Error("The demo needs two agents' API keys (the second plays the thief).");
  const started = Date.now();
  const reports: TDemoRoundReport[] = [];
  const { apiKeys } = options;

  const play = async (index: number) => {
    const name = `agent-${index + 1}`;
    const agent = await openDemoAgent({
      gatewayUrl: options.gatewayUrl,
      apiKey: apiKeys[index % apiKeys.length]!,
      thiefApiKey: apiKeys[(index + 1) % apiKeys.length]!,
      name,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    try {
      for (let round = 1; ; round += 1) {
        const roundOptions = options.loop ? loopRoundOptions(options, round) : options;
        const report = await runDemoRound(agent, round, { ...roundOptions, ...(options.log ? { log: options.log } : {}) });
        reports.push(report);
        options.log?.(`[${name}] round ${round} ${report.ok ? "passed" : "FAILED"} in ${(report.durationMs / 1000).toFixed(1)} s`);
        if (!options.loop || options.stop?.aborted) return;
        await sleep(1_000 + Math.random() * 2_000, undefined, options.stop ? { signal: options.stop } : {}).catch(() => undefined);
        if (options.stop?.aborted) return;
      }
    } finally {
      await agent.close();
    }
  };

  const connections = await Promise.allSettled(Array.from({ length: options.agents }, (_, i) => play(i)));
  const failures: string[] = [];
  for (const [i, c] of connections.entries()) if (c.status === "rejected") failures.push(`agent-${i + 1} could not play: ${c.reason instanceof Error ? c.reason.message : String(c.reason)}`);
  const tasksByStatus: Record<string, number> = {};
  let passed = 0;
  let failed = failures.length;
  for (const r of reports) {
    for (const c of r.checks) {
      if (c.ok) passed += 1;
      else {
        failed += 1;
        failures.push(`[${r.agent} round ${r.round}] ${c.name}${c.detail ? ` (${c.detail})` : ""}`);
      }
    }
    for (const t of r.tasks) tasksByStatus[t.status] = (tasksByStatus[t.status] ?? 0) + 1;
  }
  return {
    ok: failed === 0 && reports.length > 0,
    rounds: reports.length,
    failedRounds: reports.filter((r) => !r.ok).length,
    checks: { passed, failed },
    failures,
    tasksByStatus,
    polls: reports.reduce((n, r) => n + r.polls, 0),
    durationMs: Date.now() - started,
  };
}
