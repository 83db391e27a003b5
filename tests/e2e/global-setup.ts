// E2E harness: the run's own database, a real OpenID provider, and a production build of
// the console started on a free port. Tests read E2E_BASE_URL; teardown stops and drops all.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { computeBuildStamp, isBuildCurrent, writeBuildStamp } from "../../lib/startup/build-stamp";
import { consoleServerArgs } from "../../lib/startup/console-server-command";
import { OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_ROLE_MAP, startOidcProvider } from "./support/oidc-provider";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(import.meta.url);
const nextBin = require.resolve("next/dist/bin/next");
const tsx = path.join(root, "node_modules", ".bin", "tsx");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function runTsx(script: string, args: string[] = []): string {
  const r = spawnSync(tsx, ["--conditions=react-server", script, ...args], { cwd: root, encoding: "utf8", env: process.env });
  if (r.status !== 0) throw new Error(`${script} failed:\n${r.stderr}`);
  return r.stdout;
}

async function waitForHealth(url: string, server: ChildProcess): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`The console exited early (code ${server.exitCode}).`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Console not healthy at ${url}`);
}

export default async function globalSetup() {
  const db = JSON.parse(runTsx("tests/e2e/support/prepare-database.ts").trim().split("\n").pop()!) as { name: string; url: string };

  const stamp = computeBuildStamp(root);
  if (!isBuildCurrent(root, stamp)) {
    const build = spawnSync(process.execPath, [nextBin, "build"], { cwd: root, stdio: "inherit", env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" } });
    if (build.status !== 0) throw new Error("next build failed");
    writeBuildStamp(root, stamp);
  }

  const [appPort, idpPort] = [await freePort(), await freePort()];
  const baseUrl = `http://127.0.0.1:${appPort}`;
  const idp = await startOidcProvider(idpPort, `${baseUrl}/api/auth/callback/oidc`);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    DATABASE_URL: db.url,
    NEXTAUTH_URL: baseUrl,
    TETHER_SESSION_SECRET: randomBytes(48).toString("base64url"),
    TETHER_HMAC_KEY: randomBytes(48).toString("base64url"),
    TETHER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    TETHER_AUDIT_SIGNING_KEY: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    TETHER_AUDIT_CHECKPOINT_SECONDS: "2",
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID,
    OIDC_CLIENT_SECRET,
    OIDC_DISPLAY_NAME: "E2E Identity",
    OIDC_ROLE_CLAIM: "groups",
    OIDC_ROLE_MAP,
    LOG_LEVEL: "warn",
  };
  const server = spawn(process.execPath, consoleServerArgs(root, { port: appPort, host: "127.0.0.1" }), { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] });
  await waitForHealth(`${baseUrl}/api/health`, server);

  process.env.E2E_BASE_URL = baseUrl;
  process.env.E2E_DATABASE_URL = db.url;

  return async () => {
    server.kill("SIGTERM");
    await new Promise((r) => (server.exitCode !== null ? r(null) : server.once("exit", r)));
    await idp.close();
    runTsx("tests/e2e/support/drop-database.ts", [db.name]);
  };
}
