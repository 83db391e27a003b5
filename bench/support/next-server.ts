// The console as users run it, for benchmarks: the production build (rebuilt only when its inputs
// changed, as `npm start` decides) served by the console server (scripts/serve.ts, as `npm start` runs it), and the demo upstream MCP server as a
// process of its own.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { computeBuildStamp, isBuildCurrent, writeBuildStamp } from "@/lib/startup/build-stamp";
import { consoleServerArgs } from "@/lib/startup/console-server-command";

const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.once("error", reject);
  });
}

function otherBuilds(): string[] {
  const found = spawnSync("pgrep", ["-af", "next build"], { encoding: "utf8" });
  return found.stdout
    .split("\n")
    .filter((line) => line.trim() && !line.includes("pgrep"));
}

/**
 * Makes `.next` current: nothing when the build stamp matches the sources (lib/startup/build-stamp.ts,
 * the check `npm start` makes), else `next build` once no other build is running (two builds
 * writing one `.next` corrupt each other), then the stamp.
 */
export async function ensureProductionBuild(root: string, log: (line: string) => void): Promise<void> {
  let stamp = computeBuildStamp(root);
  if (isBuildCurrent(root, stamp)) return;
  for (let waited = 0; otherBuilds().length > 0; waited++) {
    if (waited === 0) log(`another \`next build\` is running; waiting for it:\n  ${otherBuilds().join("\n  ")}`);
    await sleep(2_000);
  }
  stamp = computeBuildStamp(root);
  if (isBuildCurrent(root, stamp)) return;
  log("building the console (`next build`; .next is missing or stale) …");
  const t0 = performance.now();
  const built = spawnSync(process.execPath, [nextBin, "build"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (built.status !== 0) throw new Error(`next build failed (exit ${built.status}):\n${built.stdout}\n${built.stderr}`);
  writeBuildStamp(root, stamp);
  log(`built in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

export type TNextServer = { baseUrl: string; pid: number; stop(): Promise<void>; output(): string };

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 8_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The console server on a free port with `env` on top of this process's environment; resolves once
 * /api/health answers 200. `nodeArgs` go to Node (`--cpu-prof` is not allowed in NODE_OPTIONS).
 */
export async function startNextServer(root: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<TNextServer> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, consoleServerArgs(root, { port, host: "127.0.0.1", nodeArgs }), {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env, PORT: String(port), NEXTAUTH_URL: baseUrl, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
  });
  let out = "";
  // Kept short: the server logs a line per failed request, and a long run must not hoard them.
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const server = { baseUrl, pid: child.pid!, stop: () => stopChild(child), output: () => out };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the console server exited (${child.exitCode}):\n${out}`);
    try {
      const res = await fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return server;
    } catch {
      /* not listening yet */
    }
    await sleep(150);
  }
  await server.stop();
  throw new Error(`the console server did not become healthy within 60 s:\n${out}`);
}

export type TUrlProcess = { url: string; pid: number; stop(): Promise<void> };

/** A tsx script in its own process that prints the URL it serves on a line of its own. */
async function startUrlProcess(root: string, script: string, args: string[], env: Record<string, string>): Promise<TUrlProcess> {
  const child = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", script, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  // Read to the end: a full pipe would block the child's logging, and the child with it.
  child.stderr!.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-10_000)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${out}`)), 30_000);
    child.stdout!.on("data", (d: Buffer) => {
      out = (out + d.toString()).slice(-10_000);
      const found = /^(http:\/\/127\.0\.0\.1:\d+\/mcp)$/m.exec(out);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}):\n${out}`));
    });
  });
  return { url, pid: child.pid!, stop: () => stopChild(child) };
}

export type TUpstreamProcess = TUrlProcess & { bearerToken: string };

/** A fresh demo upstream (`npm run demo:upstream`'s script) in its own process, on a free port, with its own bearer token. */
export async function startUpstreamProcess(root: string): Promise<TUpstreamProcess> {
  const bearerToken = randomBytes(24).toString("base64url");
  const started = await startUrlProcess(root, path.join("scripts", "demo-upstream.ts"), [], { PORT: "0", HOST: "127.0.0.1", DEMO_UPSTREAM_TOKEN: bearerToken });
  return { ...started, bearerToken };
}

/** bench/support/bare-proxy.ts in front of `upstream`. */
export function startBareProxy(root: string, upstream: TUpstreamProcess): Promise<TUrlProcess> {
  return startUrlProcess(root, path.join("bench", "support", "bare-proxy.ts"), [upstream.url, upstream.bearerToken], {});
}
