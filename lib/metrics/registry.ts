import "server-only";
import { Counter, Registry } from "prom-client";

// Tether's Prometheus metrics. Counters live in the process that counts (each console or worker
// process is its own scrape target, as usual with Prometheus); gauges that describe shared state
// (handles by status, audit chain, poll lag) are read from Postgres at scrape time
// (render-metrics.ts). Kept on globalThis so Next's module copies share one registry.

type TMetrics = {
  registry: Registry;
  gatewayRequests: Counter<"method">;
  handleDenials: Counter<"cause">;
  upstreamErrors: Counter<"method">;
  statusPolls: Counter<"outcome">;
  gatewayCacheLookups: Counter<"kind" | "result">;
};

const KEY = Symbol.for("tether.metrics");

function create(): TMetrics {
  const registry = new Registry();
  return {
    registry,
    gatewayRequests: new Counter({ name: "tether_gateway_requests_total", help: "JSON-RPC messages received at /mcp/{server}, by method.", labelNames: ["method"], registers: [registry] }),
    handleDenials: new Counter({ name: "tether_gateway_denials_total", help: "Task operations refused at the gateway, by real cause.", labelNames: ["cause"], registers: [registry] }),
    upstreamErrors: new Counter({ name: "tether_upstream_errors_total", help: "Upstream calls that failed (unreachable, timeout, garbage, 5xx), by method.", labelNames: ["method"], registers: [registry] }),
    gatewayCacheLookups: new Counter({ name: "tether_gateway_cache_lookups_total", help: "Gateway cache lookups (API keys, servers, sessions, handles), by kind and hit or miss.", labelNames: ["kind", "result"], registers: [registry] }),
    statusPolls: new Counter({ name: "tether_status_polls_total", help: "Status polls by the sync worker, by outcome.", labelNames: ["outcome"], registers: [registry] }),
  };
}

export function metrics(): TMetrics {
  const holder = globalThis as unknown as Record<symbol, TMetrics | undefined>;
  return (holder[KEY] ??= create());
}

const KNOWN_METHOD = /^(initialize|ping|tools\/(list|call)|tasks\/(get|result|cancel|list|update)|resources\/[a-z/]+|prompts\/[a-z/]+|notifications\/[a-z_/]+|completion\/complete|logging\/setLevel)$/;

/** A method label that cannot explode the series count: anything unexpected is "other". */
export function methodLabel(method: string): string {
  return KNOWN_METHOD.test(method) ? method : "other";
}
