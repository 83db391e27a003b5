import http, { type IncomingMessage, type ServerResponse } from "node:http";

// A console request (a page, the REST API, OAuth metadata) that arrived on a connection the
// gateway process was handed (its first request was for /mcp/…): passed to the console server's
// internal loopback listener as it is, streamed both ways. Its X-Forwarded-For is the client's
// address as the gateway process pinned it (lib/http/client-address.ts), which the console server
// keeps for requests on that listener. Rare: an HTTP client that reuses one connection for an
// origin's /mcp endpoint and its other paths.

const agent = new http.Agent({ keepAlive: true, timeout: 4_000 });
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"]);

export function proxyToConsole(req: IncomingMessage, res: ServerResponse, consoleUrl: URL): void {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  const upstream = http.request({ agent, hostname: consoleUrl.hostname, port: consoleUrl.port, method: req.method, path: req.url, headers }, (answer) => {
    const out: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
    res.writeHead(answer.statusCode ?? 502, out);
    answer.pipe(res);
    res.once("close", () => answer.destroy());
  });
  upstream.once("error", () => {
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" }).end("The console is not reachable right now.\n");
    else res.destroy();
  });
  res.once("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}
