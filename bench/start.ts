// `npm run bench:start` — issue #2's start-up, memory and page-latency targets, measured on
// this machine: a cold `npm start` (no build, no data: what a fresh clone does after
// `npm install`), a warm restart, the idle RSS of the whole process tree, and the server
// response time of the signed-in shell. Prints a table; changes nothing outside a temp dir
// except rebuilding .next.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 300);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function start(env: Record<string, string>): Promise<{ proc: ChildProcess; seconds: number }> {
  const t0 = performance.now();
  const proc = spawn(process.execPath, ["--liftoff-only", "--conditions=react-server", "--import", "tsx", "scripts/start.ts"], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  while (!out.includes("Press Ctrl-C to stop.")) {
    if (proc.exitCode !== null) throw new Error(`start failed:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, seconds: (performance.now() - t0) / 1000 };
}

async function stop(proc: ChildProcess) {
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGINT");
  await exited;
}

/** RSS of a process and all its descendants, from /proc. */
function treeRssMb(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* process went away */
    }
  }
  let kb = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      kb += Number(m?.[1] ?? 0);
    } catch {
      /* gone */
    }
    stack.push(...(children.get(p) ?? []));
  }
  return kb / 1024;
}

async function signIn(base: string, email: string, password: string): Promise<string> {
  const csrfRes = await fetch(`${base}/api/auth/csrf`);
  const cookies = csrfRes.headers.getSetCookie().map((c) => c.split(";")[0]);
  const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
  const res = await fetch(`${base}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookies.join("; ") },
    body: new URLSearchParams({ csrfToken, email, password, json: "true" }),
  });
  const session = res.headers.getSetCookie().map((c) => c.split(";")[0]).find((c) => c!.startsWith("next-auth.session-token="));
  if (!session) throw new Error(`sign-in failed (${res.status})`);
  return [...cookies, session].join("; ");
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const dataDir = mkdtempSync(path.join(tmpdir(), "tether-bench-"));
try {
  const port = await freePort();
  const env = { TETHER_DATA_DIR: dataDir, PORT: String(port), TETHER_DEMO_UPSTREAM_PORT: String(await freePort()) };
  rmSync(path.join(root, ".next"), { recursive: true, force: true });
  const cold = await start(env);
  await stop(cold.proc);
  const warm = await start(env);
  await new Promise((r) => setTimeout(r, 10_000)); // let it settle to idle
  const rss = treeRssMb(warm.proc.pid!);

  const base = `http://127.0.0.1:${port}`;
  const creds = JSON.parse(readFileSync(path.join(dataDir, "demo-credentials.json"), "utf8")) as { users: Array<{ email: string; password: string }> };
  const cookie = await signIn(base, creds.users[0]!.email, creds.users[0]!.password);
  for (let i = 0; i < 20; i++) await (await fetch(`${base}/handles`, { headers: { cookie } })).text(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now();
    const res = await fetch(`${base}/handles`, { headers: { cookie } });
    await res.text();
    if (res.status !== 200) throw new Error(`GET /handles → ${res.status}`);
    times.push(performance.now() - t0);
  }
  await stop(warm.proc);
  times.sort((a, b) => a - b);

  const rows = [
    ["cold npm start (build + new database + seed)", "≤ 120 s", `${cold.seconds.toFixed(1)} s`],
    ["warm restart", "≤ 10 s", `${warm.seconds.toFixed(1)} s`],
    ["idle RSS, whole process tree", "≤ 600 MB", `${rss.toFixed(0)} MB`],
    [`signed-in shell GET /handles, p50 (n=${SAMPLES})`, "", `${percentile(times, 50).toFixed(1)} ms`],
    [`signed-in shell GET /handles, p95 (n=${SAMPLES})`, "≤ 100 ms", `${percentile(times, 95).toFixed(1)} ms`],
  ];
  console.log("\n| what | target | measured |\n|---|---|---|");
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
