// The console's HTTP server: the MCP gateway endpoint `/mcp/{server}` on Node's own HTTP server,
// everything else (pages, REST API, sign-in) handed to Next.js. The gateway's handlers are the
// same either way (app/mcp/[server]/route.ts still serves them under `next dev`/`next start`);
// here an agent's poll skips Next's routing and rendering pipeline, which costs several times what
// the gateway's own work does.
//
// Unless TETHER_GATEWAY_PROCESS=false (and never under --dev), the gateway also runs in a process
// of its own (scripts/gateway-server.ts, bundled at each start by lib/startup/build-gateway-bundle.ts
// and run by plain Node; lib/startup/gateway-process.ts): this process reads the first request
// line of each new connection and hands agents' connections (/mcp/…) to it, so that their polls
// do not pay for what Next.js patches into the process. Until that process is up, and whenever it
// restarts, this one serves /mcp itself.
//   node --conditions=react-server --import tsx scripts/serve.ts -p PORT -H HOST [--dev]
// `npm start` runs this; it is not meant to be started by hand.
import http from "node:http";
import type net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { getEnv } from "@/lib/env";
import { registerGatewayPeer } from "@/lib/gateway/gateway-peer";
import { buildGatewayBundle, gatewayExecArgv } from "@/lib/startup/build-gateway-bundle";
import { createConsoleRequestHandler } from "@/lib/startup/console-request-handler";
import { createFrontServer } from "@/lib/startup/front-server";
import { GatewayProcess } from "@/lib/startup/gateway-process";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function arg(flag: string, fallback: string): string {
  const i = process.argv.indexOf(flag);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function listen(server: net.Server, port: number, hostname: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => resolve((server.address() as net.AddressInfo).port));
  });
}

async function main(): Promise<void> {
  const dev = process.argv.includes("--dev");
  const hostname = arg("-H", process.env.HOST ?? "127.0.0.1");
  const port = Number(arg("-p", process.env.PORT ?? "3000"));
  const app = next({ dev, dir: root, hostname, port });
  await app.prepare();
  const handle = app.getRequestHandler();
  let internalPort: number | null = null;
  const server = http.createServer(createConsoleRequestHandler({ next: handle, trustedProxyHops: getEnv().TETHER_TRUSTED_PROXY_HOPS, internalPort: () => internalPort }));
  if (dev) {
    const upgrade = app.getUpgradeHandler();
    server.on("upgrade", (req, socket, head) => void upgrade(req, socket, head));
  }

  let gateway: GatewayProcess | null = null;
  let front: net.Server = server;
  if (!dev && getEnv().TETHER_GATEWAY_PROCESS) {
    // The console's own listener on loopback only: where the gateway process passes the console
    // requests that arrive on connections it was handed.
    internalPort = await listen(server, 0, "127.0.0.1");
    // Plain Node on the bundled gateway; through tsx, as this process runs, if it cannot be built.
    const bundle = await buildGatewayBundle(root).catch((err: unknown) => {
      process.stderr.write(`The gateway bundle could not be built (${err instanceof Error ? err.message.split("\n")[0] : String(err)}); running its sources through tsx.\n`);
      return null;
    });
    gateway = new GatewayProcess({
      script: bundle ?? path.join(root, "scripts", "gateway-server.ts"),
      execArgv: gatewayExecArgv(process.execArgv, bundle !== null),
      env: process.env,
      consoleUrl: `http://127.0.0.1:${internalPort}`,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    gateway.start();
    registerGatewayPeer(gateway);
    front = createFrontServer(server, gateway);
  }
  await listen(front, port, hostname);
  process.stdout.write(`Console listening on http://${hostname}:${port}${gateway ? " (gateway in its own process)" : ""}\n`);
  const stop = () => {
    front.close();
    server.close();
    server.closeAllConnections();
    void Promise.all([gateway?.stop(), app.close()]).finally(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`The console server could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
