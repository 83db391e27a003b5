// The other process serving this console's gateway, when there is one: `npm start` runs the MCP
// gateway in a process of its own (scripts/gateway-server.ts, see lib/startup/gateway-process.ts),
// beside the Next.js process that serves the console's pages and API. Two things must still span
// both: a revocation committed here is in force at the gateway's very next call (settle), and the
// gateway's counters appear on this process's /api/metrics. Kept on globalThis, like the cache and
// the metrics registry, so that Next's module copies see what scripts/serve.ts registered.

export type TGatewayPeer = {
  /** Resolves once the peer has applied every cache notification committed before this call. */
  settle(): Promise<void>;
  /** The peer's counters (prom-client's getMetricsAsJSON), or null when it cannot tell now. */
  metricsJson(): Promise<unknown[] | null>;
};

const KEY = Symbol.for("tether.gatewayPeer");
type THolder = Record<symbol, TGatewayPeer | null | undefined>;

export function registerGatewayPeer(peer: TGatewayPeer | null): void {
  (globalThis as unknown as THolder)[KEY] = peer;
}

export function gatewayPeer(): TGatewayPeer | null {
  return (globalThis as unknown as THolder)[KEY] ?? null;
}
