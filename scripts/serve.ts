// The console's HTTP server, one process: the MCP gateway endpoint `/mcp/{server}` on Node's own
// HTTP server, and everything else (pages, REST API, sign-in) handed to Next.js. The gateway's
// handlers are the same either way (app/mcp/[server]/route.ts still serves them under
// `next dev`/`next start`); here an agent's poll skips Next's routing and rendering pipeline,
// which costs several times what the gateway's own work does.
//   node --conditions=react-server --import tsx scripts/serve.ts -p PORT -H HOST [--dev]
// `npm start` runs this; it is not meant to be started by hand.
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { gatewaySlugOf, serveGatewayRequest } from "@/lib/gateway/serve-node-request";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function arg(flag: string, fallback: string): string {
  const i = process.argv.indexOf(flag);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const dev = process.argv.includes("--dev");
  const hostname = arg("-H", process.env.HOST ?? "127.0.0.1");
  const port = Number(arg("-p", process.env.PORT ?? "3000"));
  const app = next({ dev, dir: root, hostname, port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const server = http.createServer((req, res) => {
    const slug = gatewaySlugOf(req.url);
    if (slug !== null) void serveGatewayRequest(req, res, slug);
    else void handle(req, res);
  });
  if (dev) {
    const upgrade = app.getUpgradeHandler();
    server.on("upgrade", (req, socket, head) => void upgrade(req, socket, head));
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => resolve());
  });
  process.stdout.write(`Console listening on http://${hostname}:${port}\n`);
  const stop = () => {
    server.close();
    server.closeAllConnections();
    void app.close().finally(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`The console server could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
