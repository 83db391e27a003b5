import "server-only";
import { AggregatorRegistry, Gauge, Registry, type MetricObjectWithValues, type MetricValue } from "prom-client";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPool } from "@/lib/db/client";
import { gatewayPeer } from "@/lib/gateway/gateway-peer";
import { metrics } from "./registry";

type TState = {
  byStatus: Array<{ status: string; n: number }>;
  audit: { last_seq: string | null; unsealed: number; oldest_unsealed_s: number | null };
  lag: { p95: number | null; max: number | null; polled: number };
  servers: Array<{ health: string; n: number }>;
};

async function readState(): Promise<TState> {
  const pool = getPool();
  const [byStatus, audit, lag, servers] = await Promise.all([
    pool.query<{ status: string; n: number }>(
      `SELECT status::text AS status, count(*)::int AS n FROM handle WHERE revoked_at IS NULL AND expires_at > now() GROUP BY status`,
    ),
    pool.query<TState["audit"]>(
      `SELECT (SELECT max(seq)::text FROM audit_event) AS last_seq,
              (SELECT count(*)::int FROM audit_event e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_seq = e.seq)) AS unsealed,
              (SELECT extract(epoch FROM now() - min(e.occurred_at))::float8 FROM audit_event e
                WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_seq = e.seq)) AS oldest_unsealed_s`,
    ),
    // Poll lag: how long ago each live, non-terminal handle's status was last confirmed upstream.
    pool.query<TState["lag"]>(
      `SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY lag)::float8 AS p95, max(lag)::float8 AS max, count(*)::int AS polled
         FROM (SELECT extract(epoch FROM now() - COALESCE(last_polled_at, created_at)) AS lag FROM handle
                WHERE status IN ('working', 'input_required') AND revoked_at IS NULL AND expires_at > now()) l`,
    ),
    pool.query<{ health: string; n: number }>(`SELECT health::text AS health, count(*)::int AS n FROM mcp_server WHERE removed_at IS NULL GROUP BY health`),
  ]);
  return { byStatus: byStatus.rows, audit: audit.rows[0]!, lag: lag.rows[0]!, servers: servers.rows };
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[] = []) {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

/** This process's counters, summed with those of the gateway process beside it (gateway-peer.ts). */
async function countersWithPeer(): Promise<Registry> {
  const own = metrics().registry;
  const peer = gatewayPeer();
  const theirs = peer ? await peer.metricsJson() : null;
  if (!theirs) return own;
  type TJson = MetricObjectWithValues<MetricValue<string>>[];
  return AggregatorRegistry.aggregate([(await own.getMetricsAsJSON()) as TJson, theirs as TJson]);
}

/**
 * The Prometheus exposition: this process's counters, plus gauges read from Postgres now. For
 * admins and auditors (`metrics.read`), or a scraper holding TETHER_METRICS_TOKEN (the route
 * checks the token and passes no actor).
 */
export async function renderMetrics(input: { actor: TActor | null }): Promise<{ contentType: string; body: string }> {
  if (input.actor) assertCan(input.actor, "metrics.read");
  const state = await readState();
  const scrape = new Registry();
  const handles = gauge(scrape, "tether_live_handles", "Live task handles (not revoked, not expired), by status.", ["status"]);
  for (const status of ["working", "input_required", "completed", "failed", "cancelled", "expired_upstream"]) handles.set({ status }, 0);
  for (const row of state.byStatus) handles.set({ status: row.status }, row.n);
  gauge(scrape, "tether_audit_events_total", "Audit events written (the highest sequence number).").set(Number(state.audit.last_seq ?? 0));
  gauge(scrape, "tether_audit_unsealed_events", "Audit events committed but not yet linked into the hash chain.").set(state.audit.unsealed);
  gauge(scrape, "tether_audit_sealing_lag_seconds", "Age of the oldest audit event not yet sealed (0 when none).").set(state.audit.oldest_unsealed_s ?? 0);
  gauge(scrape, "tether_poll_lag_p95_seconds", "95th percentile of the time since each live, non-terminal handle's status was last confirmed upstream.").set(state.lag.p95 ?? 0);
  gauge(scrape, "tether_poll_lag_max_seconds", "Longest time since a live, non-terminal handle's status was last confirmed upstream.").set(state.lag.max ?? 0);
  const servers = gauge(scrape, "tether_servers", "Registered servers, by health.", ["health"]);
  for (const health of ["unknown", "up", "degraded", "down"]) servers.set({ health }, 0);
  for (const row of state.servers) servers.set({ health: row.health }, row.n);
  const merged = Registry.merge([await countersWithPeer(), scrape]);
  return { contentType: merged.contentType, body: await merged.metrics() };
}
