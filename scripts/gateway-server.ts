// The MCP gateway's own process, forked by the console server (scripts/serve.ts; see
// lib/startup/gateway-process.ts for why): it listens on no port of its own; the console server
// hands it the connections whose first request is for /mcp/{server}, over the IPC channel, with the
// bytes it read to decide. Requests for anything else on those connections are passed back to the
// console (lib/startup/proxy-to-console.ts). Also over IPC: settle the gateway cache, report the
// counters. Stops (use counts flushed) on SIGTERM or when the console server goes away.
// Not meant to be started by hand.
import http from "node:http";
import type { Socket } from "node:net";
import { getEnv } from "@/lib/env";
import { settleGatewayCache, stopGatewayCache } from "@/lib/gateway/gateway-cache";
import { flushTaskRateLimits } from "@/lib/gateway/consume-task-rate-limit";
import { flushHandleUses } from "@/lib/gateway/handle-use-buffer";
import { gatewaySlugOf, serveGatewayRequest } from "@/lib/gateway/serve-node-request";
import { clientAddress, pinClientAddress } from "@/lib/http/client-address";
import { describeErrorForLog, log } from "@/lib/log";
import { metrics } from "@/lib/metrics/registry";
import { proxyToConsole } from "@/lib/startup/proxy-to-console";

const consoleUrl = new URL(process.env.TETHER_CONSOLE_INTERNAL_URL ?? "http://127.0.0.1:3000");

const trustedProxyHops = getEnv().TETHER_TRUSTED_PROXY_HOPS;

const server = http.createServer((req, res) => {
  pinClientAddress(req, clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], trustedProxyHops));
  const slug = gatewaySlugOf(req.url);
  if (slug !== null) void serveGatewayRequest(req, res, slug);
  else proxyToConsole(req, res, consoleUrl);
});

type TMessage = { type?: string; id?: string; head?: string };

process.on("message", (message: TMessage, handle: unknown) => {
  if (message.type === "connection" && handle) {
    const socket = handle as Socket;
    // What the console server read to route the connection comes first, then the socket's own bytes.
    if (message.head) socket.unshift(Buffer.from(message.head, "base64"));
    server.emit("connection", socket);
    socket.resume();
  } else if (message.type === "settle" && message.id) {
    const id = message.id;
    settleGatewayCache().then(
      () => process.send?.({ type: "settled", id }),
      (err: unknown) => log.error({ err: describeErrorForLog(err) }, "Could not settle the gateway cache"),
    );
  } else if (message.type === "metrics" && message.id) {
    const id = message.id;
    void metrics()
      .registry.getMetricsAsJSON()
      .then((json) => process.send?.({ type: "metrics", id, json }));
  }
});

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeAllConnections();
  try {
    await Promise.all([flushHandleUses(), flushTaskRateLimits()]);
  } catch (err) {
    log.error({ err: describeErrorForLog(err) }, "Could not write the gateway's buffered counts while stopping");
  }
  stopGatewayCache();
  process.exit(0);
}
process.once("SIGTERM", () => void stop());
// Ctrl-C reaches the whole process group: the console server stops this process itself (SIGTERM).
process.on("SIGINT", () => undefined);
process.once("disconnect", () => void stop());

// Node's HTTP server tracks its connections, and so enforces headersTimeout and requestTimeout
// (a client trickling its headers forever) and closeAllConnections(), only once it listens. So
// it listens, on a loopback port nothing is routed to; its connections come over IPC.
server.listen(0, "127.0.0.1", () => process.send?.({ type: "ready" }));
