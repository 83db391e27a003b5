// `npm start`: the console in one command.
//   No DATABASE_URL: embedded Postgres (PGlite) under TETHER_DATA_DIR, generated secrets,
//   demo data on first run, and the demo upstream MCP server.
//   DATABASE_URL set: that Postgres, secrets from the environment, no demo data.
// Then: migrations, a production build when the sources changed, the console server
// (scripts/serve.ts: Next.js plus the gateway on Node's HTTP server), and a clean
// shutdown of everything on Ctrl-C.
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { systemActor } from "@/lib/auth/actor";
import { createPrismaClient } from "@/lib/db/client";
import { describeConnectionError } from "@/lib/db/describe-connection-error";
import { listPendingMigrations } from "@/lib/db/list-pending-migrations";
import { startDemoUpstream } from "@/lib/demo-upstream/server";
import { generateAuditSigningKeyPem } from "@/lib/audit/signing-key";
import { acquireLock, DataDirError, ensureDataDir, loadOrCreateAuditSigningKey, loadOrCreateSecrets, readDemoCredentials, writeDemoCredentials } from "@/lib/embedded/data-dir";
import { checkPortAvailable } from "@/lib/embedded/ports";
import { startEmbeddedPostgres } from "@/lib/embedded/start-embedded-postgres";
import { getEnv, resetEnvCache } from "@/lib/env";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { seedDemo, ZDemoCredentials, type TDemoCredentials } from "@/lib/seed/seed-demo";
import { computeBuildStamp, isBuildCurrent, writeBuildStamp } from "@/lib/startup/build-stamp";
import { consoleServerArgs } from "@/lib/startup/console-server-command";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
const isDev = process.argv.includes("--dev");
const cleanups: Array<() => unknown> = [];
let child: ChildProcess | undefined;
let stopping = false;

class StartError extends Error {}

function fail(message: string): never {
  throw new StartError(message);
}

function say(line = "") {
  process.stdout.write(`${line}\n`);
}

async function main() {
  const started = Date.now();
  let env;
  try {
    env = getEnv();
  } catch (err) {
    fail((err as Error).message);
  }
  const host = env.HOST;
  const publicUrl = (env.TETHER_PUBLIC_URL ?? `http://${host === "0.0.0.0" || host === "::" ? "localhost" : host}:${env.PORT}`).replace(/\/$/, "");
  const portProblem = await checkPortAvailable(env.PORT, host);
  if (portProblem) fail(portProblem);

  const embedded = !env.DATABASE_URL;
  let databaseUrl: string;
  let demoUpstreamToken: string | undefined;
  if (embedded) {
    const dataDir = path.resolve(root, env.TETHER_DATA_DIR);
    ensureDataDir(dataDir);
    cleanups.push(acquireLock(dataDir));
    const { secrets } = loadOrCreateSecrets(dataDir);
    Object.assign(process.env, {
      TETHER_SESSION_SECRET: secrets.sessionSecret,
      TETHER_HMAC_KEY: secrets.hmacKey,
      TETHER_ENCRYPTION_KEY: secrets.encryptionKey,
      TETHER_DEMO: "true",
      TETHER_EMBEDDED: "true",
      TETHER_AUDIT_SIGNING_KEY: loadOrCreateAuditSigningKey(dataDir, generateAuditSigningKeyPem),
    });
    demoUpstreamToken = secrets.demoUpstreamToken;
    say(`Starting the embedded database in ${path.relative(process.cwd(), dataDir) || "."}/pg …`);
    const pg = await startEmbeddedPostgres(dataDir);
    cleanups.push(() => pg.stop());
    databaseUrl = pg.connectionString;
  } else {
    const missing = (["TETHER_SESSION_SECRET", "TETHER_HMAC_KEY", "TETHER_ENCRYPTION_KEY", "TETHER_AUDIT_SIGNING_KEY"] as const).filter((k) => !env[k]);
    if (missing.length) fail(`With DATABASE_URL set, Tether takes its secrets from the environment; missing: ${missing.join(", ")}. See the README's configuration table.`);
    databaseUrl = env.DATABASE_URL!;
  }
  process.env.DATABASE_URL = databaseUrl;
  resetEnvCache();
  getEnv();

  // Migrations run in a short-lived child: the WebAssembly schema engine is large, and its
  // memory is returned to the system when that process exits instead of staying resident here.
  // A warm start with nothing pending skips the engine entirely.
  let pending: string[];
  try {
    pending = await listPendingMigrations(databaseUrl);
  } catch (err) {
    fail(describeConnectionError(err, databaseUrl));
  }
  if (pending.length) {
    const migrate = await runCaptured(process.execPath, ["--conditions=react-server", "--import", "tsx", "scripts/db-migrate.ts"]);
    if (migrate.code !== 0) fail(migrate.stderr.trim().split("\n")[0] || `Migrations failed (exit code ${migrate.code}).`);
    for (const line of migrate.stdout.trim().split("\n")) if (line.startsWith("Applied")) say(line);
  }

  const db = createPrismaClient(databaseUrl);
  const system = systemActor("start", `start-${process.pid}`);
  await ensureDefaultPolicy(db, system);

  let demo: TDemoCredentials | null = null;
  if (embedded) {
    const dataDir = path.resolve(root, env.TETHER_DATA_DIR);
    const upstreamProblem = await checkPortAvailable(env.TETHER_DEMO_UPSTREAM_PORT, "127.0.0.1");
    if (upstreamProblem) fail(`Demo upstream MCP server: ${upstreamProblem.replace("set PORT", "set TETHER_DEMO_UPSTREAM_PORT")}`);
    const upstream = await startDemoUpstream({ host: "127.0.0.1", port: env.TETHER_DEMO_UPSTREAM_PORT, bearerToken: demoUpstreamToken! });
    cleanups.push(() => upstream.close());
    if ((await db.principal.count({ where: { kind: "user" } })) === 0) {
      say("First start: creating demo users, an agent API key and the demo upstream server …");
      demo = await seedDemo(db, { actor: system, upstreamUrl: upstream.url, upstreamToken: demoUpstreamToken!, gatewayBaseUrl: publicUrl });
      writeDemoCredentials(dataDir, demo);
    } else {
      demo = readDemoCredentials(dataDir, ZDemoCredentials);
    }
  }

  // Hand the database over to the console process: the embedded database is safest with one
  // connection per process (lib/db/client.ts), and this process needs none from here on.
  await db.$disconnect();

  if (!isDev) {
    const stamp = computeBuildStamp(root);
    if (!isBuildCurrent(root, stamp)) {
      say("Building the console (first start or changed sources; this takes a minute) …");
      await run(process.execPath, [nextBin, "build"], { NODE_ENV: "production" });
      writeBuildStamp(root, stamp);
    }
  }

  child = spawn(process.execPath, consoleServerArgs(root, { port: env.PORT, host, dev: isDev }), {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, NEXTAUTH_URL: publicUrl, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: isDev ? "development" : "production" },
  });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      process.stderr.write(`The console process stopped unexpectedly (${signal ?? `exit code ${code}`}).\n`);
      void shutdown(1);
    }
  });
  await waitForHealth(`http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${env.PORT}/api/health`);

  say("");
  say(`Tether is running at ${publicUrl}  (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  say(embedded ? `Database: embedded, in ${env.TETHER_DATA_DIR}/pg` : "Database: DATABASE_URL");
  if (demo) {
    say("");
    say("Demo sign-ins (demo mode only; stored in .data/demo-credentials.json):");
    for (const u of demo.users) say(`  ${u.role.padEnd(9)} ${u.email.padEnd(28)} ${u.password}`);
    say(`Demo agent API key: ${demo.apiKey}`);
  }
  say("");
  say("Press Ctrl-C to stop.");
}

function run(cmd: string, args: string[], extraEnv: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...extraEnv } });
    cleanups.push(() => p.exitCode === null && p.kill("SIGTERM"));
    p.on("error", reject);
    p.on("exit", (code) => (code === 0 ? resolve() : reject(new StartError(`The production build failed (exit code ${code}); see the output above.`))));
  });
}

function runCaptured(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    const p = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: process.env });
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("exit", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

async function waitForHealth(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  fail(`The console did not become healthy at ${url} within 60 s.`);
}

async function shutdown(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => undefined);
  stopping = true;
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 8_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  // Reverse order of start-up: the database stops last, then the lock is released.
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch {
      /* best effort while stopping */
    }
  }
  process.exit(code);
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

main().catch(async (err) => {
  const message =
    err instanceof StartError || err instanceof DataDirError
      ? err.message
      : `Tether could not start: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`;
  process.stderr.write(`${message}\n`);
  await shutdown(1);
});
