import type http from "node:http";
import net from "node:net";
import type { GatewayProcess } from "./gateway-process";
import { peekConnection } from "./route-connection";

/** How long a new connection may take to send enough of its first request line to be routed. */
const FIRST_LINE_TIMEOUT_MS = 60_000;

/**
 * The console's public listener when the gateway runs in its own process: each new connection's
 * first request line decides who serves it (route-connection.ts). Agents' connections go to the
 * gateway process; the rest, and agents' connections while that process is not up, to the console
 * (`consoleServer`, which serves /mcp itself as well).
 */
export function createFrontServer(consoleServer: http.Server, gateway: GatewayProcess, firstLineTimeoutMs = FIRST_LINE_TIMEOUT_MS): net.Server {
  return net.createServer({ pauseOnConnect: true }, (socket) => {
    void peekConnection(socket, firstLineTimeoutMs).then((peeked) => {
      if (!peeked) return;
      if (peeked.route === "gateway" && gateway.offer(socket, peeked.head)) return;
      socket.unshift(peeked.head);
      consoleServer.emit("connection", socket);
      socket.resume();
    });
  });
}
