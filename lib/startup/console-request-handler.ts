import type { IncomingMessage, ServerResponse } from "node:http";
import { gatewaySlugOf, serveGatewayRequest } from "@/lib/gateway/serve-node-request";
import { clientAddress, pinClientAddress } from "@/lib/http/client-address";

/**
 * The console server's requests (scripts/serve.ts): the client's address pinned first
 * (lib/http/client-address.ts), then `/mcp/{slug}` to the gateway's handlers and the rest to
 * `next`. A request that arrives on `internalPort()` was passed back by the gateway process,
 * which pinned the address already.
 */
export function createConsoleRequestHandler(input: {
  next: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  trustedProxyHops: number;
  internalPort: () => number | null;
}): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const internal = input.internalPort();
    if (internal === null || req.socket.localPort !== internal) {
      pinClientAddress(req, clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], input.trustedProxyHops));
    }
    const slug = gatewaySlugOf(req.url);
    if (slug !== null) void serveGatewayRequest(req, res, slug);
    else void input.next(req, res);
  };
}
