// A do-nothing reverse proxy, run as its own process by bench/gateway.ts: what any HTTP hop in
// front of the upstream costs on this machine, with no authentication, no database and no
// rewriting. It swaps the agent's Authorization for the upstream's token and streams both ways.
// Usage: node --import tsx bench/support/bare-proxy.ts <upstream url> <upstream bearer token>
import http from "node:http";
import type { AddressInfo } from "node:net";

const [target, token] = process.argv.slice(2);
if (!target || !token) throw new Error("usage: bare-proxy.ts <upstream url> <upstream bearer token>");
const upstream = new URL(target);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

const server = http.createServer((req, res) => {
  const headers = { ...req.headers, host: upstream.host, authorization: `Bearer ${token}` };
  const out = http.request(upstream, { method: req.method, headers, agent }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  out.on("error", () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(out);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}${upstream.pathname}`));
process.on("SIGTERM", () => process.exit(0));
