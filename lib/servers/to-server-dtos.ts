import "server-only";
import type { TPrismaClient } from "@/lib/db/client";
import { Prisma } from "@/lib/db/generated/client";
import type { TTx } from "@/lib/db/types";
import { describeStoredCredentials } from "./server-credentials";
import { ZCapabilitySummary, ZServerDto, ZServerInfo, ZToolSummary, type TServerDto } from "./schemas";

/** Health checks shown per server (the sparkline). */
export const SPARKLINE_POINTS = 30;

/** The columns a server DTO is built from: `credentials_enc` only for its kind and the OAuth settings that are not secret. */
export const SERVER_DTO_SELECT = {
  id: true,
  slug: true,
  name: true,
  url: true,
  audience: true,
  credentialsEnc: true,
  enabled: true,
  pollingPaused: true,
  pollMinMs: true,
  pollMaxMs: true,
  pollConcurrency: true,
  tags: true,
  serverInfo: true,
  protocolVersion: true,
  capabilities: true,
  tools: true,
  taskWires: true,
  health: true,
  lastCheckedAt: true,
  lastError: true,
  lastErrorKind: true,
  lastLatencyMs: true,
  consecutiveFailures: true,
  createdAt: true,
  updatedAt: true,
} as const;

export type TServerDtoRow = Prisma.McpServerGetPayload<{ select: typeof SERVER_DTO_SELECT }>;

type TCheckRow = { serverId: string; at: Date; ok: boolean; status: TServerDto["health"]["status"]; latencyMs: number | null; errorKind: string | null };

/** Recorded JSON that no longer parses (an older shape) shows as unknown rather than failing the page. */
function parsedOrNull<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, value: unknown): T | null {
  if (value === null || value === undefined) return null;
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** DTOs for server rows, with their recent health checks and live handles in two queries. */
export async function toServerDtos(db: TPrismaClient | TTx, rows: TServerDtoRow[]): Promise<TServerDto[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [checks, handles, syncRows] = await Promise.all([
    db.$queryRaw<TCheckRow[]>`
      SELECT server_id::text AS "serverId", checked_at AS at, ok, status::text AS status, latency_ms AS "latencyMs", error_kind AS "errorKind"
        FROM (SELECT c.*, row_number() OVER (PARTITION BY server_id ORDER BY id DESC) AS n
                FROM server_health_check c WHERE server_id IN (${Prisma.join(ids.map((id) => Prisma.sql`${id}::uuid`))})) ranked
       WHERE n <= ${SPARKLINE_POINTS}
       ORDER BY server_id, at ASC`,
    db.handle.groupBy({
      by: ["serverId", "status"],
      where: { serverId: { in: ids }, revokedAt: null, expiresAt: { gt: new Date() } },
      _count: { _all: true },
    }),
    // Poll lag: time since each running task's status was last confirmed upstream (or since it was minted).
    db.$queryRaw<Array<{ serverId: string; oldest: Date | null; p95: number | null; max: number | null; failing: number }>>`
      SELECT server_id::text AS "serverId", min(created_at) AS oldest,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM now() - COALESCE(last_polled_at, created_at)) * 1000)::float8 AS p95,
             max(extract(epoch FROM now() - COALESCE(last_polled_at, created_at)) * 1000)::float8 AS max,
             count(*) FILTER (WHERE poll_failures > 0)::int AS failing
        FROM handle
       WHERE server_id IN (${Prisma.join(ids.map((id) => Prisma.sql`${id}::uuid`))})
         AND status IN ('working', 'input_required') AND revoked_at IS NULL AND expires_at > now()
       GROUP BY server_id`,
  ]);
  const syncByServer = new Map(syncRows.map((r) => [r.serverId, r]));
  const checksByServer = new Map<string, TCheckRow[]>();
  for (const c of checks) checksByServer.set(c.serverId, [...(checksByServer.get(c.serverId) ?? []), c]);
  const handlesByServer = new Map<string, Record<string, number>>();
  for (const h of handles) handlesByServer.set(h.serverId, { ...handlesByServer.get(h.serverId), [h.status]: h._count._all });

  return rows.map((r) => {
    const byStatus = handlesByServer.get(r.id) ?? {};
    // Only the kind and the OAuth settings that are not secret leave here; ZServerDto has no field for a secret.
    const stored = describeStoredCredentials(r.slug, r.credentialsEnc);
    return ZServerDto.parse({
      id: r.id,
      slug: r.slug,
      name: r.name,
      url: r.url,
      audience: r.audience,
      gatewayPath: `/mcp/${r.slug}`,
      enabled: r.enabled,
      pollingPaused: r.pollingPaused,
      pollMinMs: r.pollMinMs,
      pollMaxMs: r.pollMaxMs,
      pollConcurrency: r.pollConcurrency,
      tags: r.tags,
      credentials: stored.kind,
      oauth: stored.oauth,
      serverInfo: parsedOrNull(ZServerInfo, r.serverInfo),
      protocolVersion: r.protocolVersion,
      capabilities: parsedOrNull(ZCapabilitySummary, r.capabilities),
      taskWires: r.taskWires,
      tools: parsedOrNull(ZToolSummary.array(), r.tools),
      health: {
        status: r.health,
        lastCheckedAt: r.lastCheckedAt,
        latencyMs: r.lastLatencyMs,
        lastError: r.lastError,
        lastErrorKind: r.lastErrorKind,
        consecutiveFailures: r.consecutiveFailures,
        recent: (checksByServer.get(r.id) ?? []).map(({ at, ok, status, latencyMs, errorKind }) => ({ at, ok, status, latencyMs, errorKind })),
      },
      liveHandles: { total: Object.values(byStatus).reduce((a, b) => a + b, 0), byStatus },
      sync: {
        oldestRunningAt: syncByServer.get(r.id)?.oldest ?? null,
        pollLagP95Ms: syncByServer.get(r.id)?.p95 ?? null,
        pollLagMaxMs: syncByServer.get(r.id)?.max ?? null,
        failingPolls: syncByServer.get(r.id)?.failing ?? 0,
      },
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    });
  });
}
