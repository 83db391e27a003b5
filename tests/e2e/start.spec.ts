// `npm start` as a newcomer runs it: embedded database, demo data, sign-in, Ctrl-C, restart
// with the data intact; and its failure modes (bad DATABASE_URL, port in use, locked data).
import { expect, test } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

type TRun = { proc: ChildProcess; output: () => string; exited: Promise<number | null> };

function startTether(env: Record<string, string>): TRun {
  let out = "";
  const proc = spawn(process.execPath, ["--liftoff-only", "--conditions=react-server", "--import", "tsx", "scripts/start.ts"], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: "", NODE_ENV: "production", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  return { proc, output: () => out, exited };
}

async function waitFor(run: TRun, text: string, ms = 120_000) {
  const deadline = Date.now() + ms;
  while (!run.output().includes(text)) {
    if (run.proc.exitCode !== null) throw new Error(`exited early:\n${run.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for "${text}":\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

test.describe.configure({ timeout: 240_000 });

test("npm start: demo sign-in works, Ctrl-C stops cleanly, the next start finds the data intact", async ({ page }) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "tether-start-"));
  try {
    const [port, upstreamPort] = [await freePort(), await freePort()];
    const env = { TETHER_DATA_DIR: dataDir, PORT: String(port), TETHER_DEMO_UPSTREAM_PORT: String(upstreamPort), TETHER_AUDIT_CHECKPOINT_SECONDS: "1" };
    const first = startTether(env);
    await waitFor(first, "Press Ctrl-C to stop.");
    expect(first.output()).toContain("First start: creating demo users");
    expect(first.output()).toContain(`Tether is running at http://127.0.0.1:${port}`);
    const creds = JSON.parse(readFileSync(path.join(dataDir, "demo-credentials.json"), "utf8")) as { users: Array<{ email: string; role: string; password: string }> };
    expect(creds.users.map((u) => u.role)).toEqual(["admin", "reviewer", "support", "auditor", "viewer"]);
    for (const u of creds.users) expect(first.output()).toContain(u.password);

    const secretsMode = (await import("node:fs")).statSync(path.join(dataDir, "secrets.json")).mode & 0o777;
    expect(secretsMode).toBe(0o600);

    const admin = creds.users[0]!;
    await page.goto(`http://127.0.0.1:${port}/signin`);
    await page.getByLabel("Email").fill(admin.email);
    await page.getByLabel("Password").fill(admin.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page).toHaveURL(`http://127.0.0.1:${port}/handles`);
    await page.goto(`http://127.0.0.1:${port}/servers`);
    await expect(page.getByRole("link", { name: "Demo upstream" })).toBeVisible();
    await expect(page.getByText("/mcp/demo", { exact: true })).toBeVisible();

    // The demo agent, as a newcomer runs it, through the real gateway route of the running console.
    const agent = await new Promise<{ code: number | null; output: string }>((resolve) => {
      let output = "";
      const proc = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", "scripts/demo-agent.ts", "--url", `http://127.0.0.1:${port}`, "--credentials", path.join(dataDir, "demo-credentials.json")], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: "" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      proc.stdout!.on("data", (d) => (output += d));
      proc.stderr!.on("data", (d) => (output += d));
      proc.once("exit", (code) => resolve({ code, output }));
    });
    expect(agent.code, agent.output).toBe(0);
    expect(agent.output).not.toMatch(/tht_[A-Za-z0-9_-]{43}/); // tokens only ever shortened
    await page.goto(`http://127.0.0.1:${port}/handles`);
    await expect(page.getByText("long_task").first()).toBeVisible();

    // The audit trail works on the embedded database too: sealed, signed and verifiable.
    await expect
      .poll(async () => (await (await page.request.get(`http://127.0.0.1:${port}/api/v1/audit/verify`)).json()) as { ok: boolean; events: number; checkpoints: number }, { timeout: 20_000 })
      .toMatchObject({ ok: true, events: expect.any(Number), checkpoints: expect.any(Number) });
    const bundle = await (await page.request.get(`http://127.0.0.1:${port}/api/v1/audit/export?format=ndjson`)).text();
    expect(bundle.split("\n")[0]).toContain('"format":"tether-audit-bundle"');
    expect(bundle).toContain('"type":"trailer"');

    first.proc.kill("SIGINT");
    expect(await first.exited).toBe(0);
    expect(existsSync(path.join(dataDir, "tether.lock"))).toBe(false);

    const second = startTether(env);
    await waitFor(second, "Press Ctrl-C to stop.");
    expect(second.output()).not.toContain("First start");
    expect(second.output()).toContain(admin.password);
    await page.goto(`http://127.0.0.1:${port}/admin`);
    // The old session cookie still works: the session row survived the restart.
    await expect(page.getByText("admin@demo.tether.local", { exact: true })).toBeVisible();
    second.proc.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("npm start refuses a locked data folder, a port in use and an unreachable DATABASE_URL with one clear line", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "tether-start-"));
  const blocker = net.createServer();
  try {
    // A lock held by a live process (this one).
    writeFileSync(path.join(dataDir, "tether.lock"), String(process.pid));
    const locked = startTether({ TETHER_DATA_DIR: dataDir, PORT: String(await freePort()) });
    expect(await locked.exited).toBe(1);
    expect(locked.output()).toContain(`is in use by another Tether process (pid ${process.pid})`);
    expect(locked.output()).not.toMatch(/\n\s+at /);

    const busy = await freePort();
    await new Promise<void>((r) => blocker.listen(busy, "127.0.0.1", () => r()));
    const inUse = startTether({ TETHER_DATA_DIR: dataDir, PORT: String(busy) });
    expect(await inUse.exited).toBe(1);
    expect(inUse.output().trim()).toBe(`Port ${busy} on 127.0.0.1 is already in use. Stop what is using it or set PORT to another port.`);

    const closed = await freePort();
    const unreachable = startTether({
      DATABASE_URL: `postgresql://tether:pw@127.0.0.1:${closed}/tether`,
      PORT: String(await freePort()),
      TETHER_SESSION_SECRET: "s".repeat(40),
      TETHER_HMAC_KEY: "h".repeat(40),
      TETHER_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
      TETHER_AUDIT_SIGNING_KEY: "unused",
    });
    expect(await unreachable.exited).toBe(1);
    const line = unreachable.output().trim();
    expect(line.split("\n")).toHaveLength(1);
    expect(line).toContain(`127.0.0.1:${closed}`);
    expect(line).toContain("connection refused");
    expect(line).not.toContain("pw@");

    const badPassword = startTether({
      DATABASE_URL: "postgresql://no_such_role_tether:wrong@127.0.0.1:5432/postgres",
      PORT: String(await freePort()),
      TETHER_SESSION_SECRET: "s".repeat(40),
      TETHER_HMAC_KEY: "h".repeat(40),
      TETHER_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
      TETHER_AUDIT_SIGNING_KEY: "unused",
    });
    expect(await badPassword.exited).toBe(1);
    expect(badPassword.output().trim().split("\n")).toHaveLength(1);
    expect(badPassword.output()).toContain("127.0.0.1:5432");
  } finally {
    blocker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("a damaged secrets file is reported and never overwritten", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "tether-start-"));
  try {
    writeFileSync(path.join(dataDir, "secrets.json"), "{not json", { mode: 0o600 });
    const run = startTether({ TETHER_DATA_DIR: dataDir, PORT: String(await freePort()) });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain("secrets.json is not valid JSON");
    expect(readFileSync(path.join(dataDir, "secrets.json"), "utf8")).toBe("{not json");
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
