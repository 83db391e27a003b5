import type { Socket } from "node:net";

// Which process serves a new connection to the console's port, decided from its first request
// line: agents' connections (`POST|GET|DELETE /mcp/…`) go to the gateway process, everything
// else to Next.js. Only the first request of a connection is looked at: a keep-alive connection
// stays with the process that got it, and each process can serve the other's requests too
// (scripts/gateway-server.ts passes console requests back; Next's process still serves /mcp).

export type TConnectionRoute = "gateway" | "console";

const GATEWAY_PREFIXES = ["POST /mcp/", "GET /mcp/", "DELETE /mcp/"].map((p) => Buffer.from(p, "latin1"));
/** Long enough for the longest prefix; a request line that has not matched by then is the console's. */
const DECISION_BYTES = Math.max(...GATEWAY_PREFIXES.map((p) => p.length));

const ignoreError = () => undefined;

/** The route of a connection whose first bytes are `head`, or null while they could still go either way. */
export function classifyRequestHead(head: Buffer): TConnectionRoute | null {
  let undecided = false;
  for (const prefix of GATEWAY_PREFIXES) {
    const n = Math.min(prefix.length, head.length);
    if (head.compare(prefix, 0, n, 0, n) !== 0) continue;
    if (n === prefix.length) return "gateway";
    undecided = true;
  }
  return undecided && head.length < DECISION_BYTES ? null : "console";
}

/**
 * Reads a new connection's first bytes until its route is known, then stops reading: what was
 * read is returned with the route, and whatever the client sends next stays in the kernel's
 * buffer for the process that gets the connection. Resolves null when the client closes, errs
 * or sends nothing decisive within `timeoutMs` (the socket is destroyed).
 */
export function peekConnection(socket: Socket, timeoutMs: number): Promise<{ route: TConnectionRoute; head: Buffer } | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (result: { route: TConnectionRoute; head: Buffer } | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onGone);
      socket.off("close", onGone);
      socket.off("error", onGone);
      if (!result) {
        socket.destroy();
        return resolve(null);
      }
      // Stop the handle itself: pausing the stream alone lets libuv keep reading into it, and
      // those bytes would be lost when the handle moves to another process.
      // (Node's own Socket.pause does the same for sockets with an onread buffer; `reading` tells
      // the stream to start the handle again when whoever gets the socket here resumes it.)
      socket.pause();
      const handle = (socket as unknown as { _handle?: { reading?: boolean; readStop?: () => number } })._handle;
      if (handle?.readStop) {
        handle.reading = false;
        handle.readStop();
      }
      for (let more = socket.read() as Buffer | null; more !== null; more = socket.read() as Buffer | null) chunks.push(more);
      // Until whoever gets the socket listens for errors (Node's HTTP server does), one here must
      // not take the console server down with it.
      socket.on("error", ignoreError);
      resolve({ route: result.route, head: Buffer.concat(chunks) });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      const route = classifyRequestHead(chunks.length === 1 ? chunk : Buffer.concat(chunks));
      if (route) finish({ route, head: Buffer.alloc(0) });
    };
    const onGone = () => finish(null);
    const timer = setTimeout(onGone, timeoutMs);
    socket.on("data", onData);
    socket.once("end", onGone);
    socket.once("close", onGone);
    socket.once("error", onGone);
    socket.resume();
  });
}
