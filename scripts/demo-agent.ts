// `npm run demo:agent [-- --agents N] [--url URL] [--loop] [--credentials FILE]`
// Plays demo agents against the running demo (`npm start`): official MCP SDK clients, through
// Tether's gateway with the demo agents' API keys from .data/demo-credentials.json. Prints what
// it does (tokens shortened) and a summary; exit 0 when every expectation held, else 1.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { issueSecondAgentKey } from "@/lib/demo-agent/issue-second-agent-key";
import { redactTokens } from "@/lib/demo-agent/redact-tokens";
import { runDemoAgents } from "@/lib/demo-agent/run-demo-agents";
import { DEMO_SERVER_SLUG, ZDemoCredentials } from "@/lib/seed/seed-demo";

const say = (line = "") => process.stdout.write(`${redactTokens(line)}\n`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { agents: { type: "string", default: "1" }, url: { type: "string" }, loop: { type: "boolean", default: false }, credentials: { type: "string" } },
    strict: true,
  });
  const agents = Number(values.agents);
  if (!Number.isInteger(agents) || agents < 1 || agents > 20) return fail("--agents must be a whole number from 1 to 20.");
  const file = values.credentials ?? path.join(process.env.TETHER_DATA_DIR || ".data", "demo-credentials.json");
  let creds;
  try {
    creds = ZDemoCredentials.parse(JSON.parse(readFileSync(file, "utf8")));
  } catch (err) {
    return fail(`Cannot read the demo credentials in ${file} (${(err as Error).message.split("\n")[0]}). Run \`npm start\` first: its first start seeds the demo.`);
  }
  // --url is the console's address; a gateway address (…/mcp/<slug>) is taken as it is.
  const url = values.url?.replace(/\/$/, "");
  const gatewayUrl = url ? (/\/mcp\/[^/]+$/.test(url) ? url : `${url}/mcp/${DEMO_SERVER_SLUG}`) : (creds.gatewayUrl ?? `http://127.0.0.1:3000/mcp/${DEMO_SERVER_SLUG}`);
  const baseUrl = new URL(gatewayUrl).origin;

  const health = await checkHealth(baseUrl);
  if (!health) return fail(`Tether is not answering at ${baseUrl}/api/health. Is \`npm start\` running?`);
  say(`Tether ${health} at ${baseUrl}; gateway ${gatewayUrl}`);

  let secondKey = creds.secondApiKey;
  if (!secondKey) {
    // Seeded before the demo had a second agent: issue one through the REST API as the demo admin.
    const admin = creds.users.find((u) => u.role === "admin");
    if (!admin) return fail(`${file} has no second agent key and no admin sign-in to create one.`);
    const issued = await issueSecondAgentKey({ baseUrl, admin });
    secondKey = issued.key;
    say(`No second agent in ${file} (seeded by an older version): issued a one-day key for ${issued.agentName} as ${admin.email}.`);
  }
  say(`Agents: ${agents} in parallel${values.loop ? ", looping until Ctrl-C" : ""}; keys ${creds.apiKey} and ${secondKey} (each agent's thief holds the other).`);
  say();

  const stop = new AbortController();
  process.on("SIGINT", () => {
    if (stop.signal.aborted) process.exit(130);
    say("\nStopping after the current round (Ctrl-C again to quit now) …");
    stop.abort();
  });
  const summary = await runDemoAgents({
    gatewayUrl,
    apiKeys: [creds.apiKey, secondKey],
    agents,
    loop: values.loop,
    stop: stop.signal,
    ttlMs: values.loop ? 120_000 : 600_000,
    log: say,
  });

  const after = await checkHealth(baseUrl);
  say();
  say("Summary");
  say(`  rounds:  ${summary.rounds} (${summary.failedRounds} failed), ${(summary.durationMs / 1000).toFixed(1)} s`);
  say(`  checks:  ${summary.checks.passed} passed, ${summary.checks.failed} failed`);
  say(`  tasks:   ${Object.entries(summary.tasksByStatus).map(([s, n]) => `${n} ${s}`).join(", ") || "none"}; ${summary.polls} tasks/get polls`);
  say(`  health:  ${after ?? "NOT answering"}`);
  for (const f of summary.failures) say(`  ✗ ${f}`);
  say(summary.ok && after ? "All expectations held." : "Some expectations did not hold.");
  return summary.ok && after ? 0 : 1;
}

/** "ok (db up, version x)" from GET /api/health, or null when the console does not answer healthy. */
async function checkHealth(baseUrl: string): Promise<string | null> {
  try {
    const res = await fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { status?: string; db?: string; version?: string };
    return res.ok ? `${body.status ?? "ok"} (db ${body.db}, version ${body.version})` : null;
  } catch {
    return null;
  }
}

function fail(message: string): number {
  process.stderr.write(`${message}\n`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo:agent failed: ${redactTokens(err instanceof Error ? err.message : String(err))}\n`);
    process.exit(1);
  },
);
