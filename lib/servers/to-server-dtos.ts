import "server-only";
import type { TPrismaClient } from "@/lib/db/client";
import { Prisma } from "@/lib/db/generated/client";
import type { TTx } from "@/lib/db/types";
import { ZCapabilitySummary, ZServerDto, ZServerInfo, ZToolSummary, type TServerDto } from "./schemas";

/** Health checks shown per server (the sparkline). */
export const SPARKLINE_POINTS = 30;

/** The columns a server DTO is built from: `credentials_enc` only as "is it set". */
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
  const [checks, handles] = await Promise.all([
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
  ]);
  const checksByServer = new Map<string, TCheckRow[]>();
  for (const c of checks) checksByServer.set(c.serverId, [...(checksByServer.get(c.serverId) ?? []), c]);
  const handlesByServer = new Map<string, Record<string, number>>();
  for (const h of handles) handlesByServer.set(h.serverId, { ...handlesByServer.get(h.serverId), [h.status]: h._count._all });

  return rows.map((r) => {
    const byStatus = handlesByServer.get(r.id) ?? {};
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
      credentials: r.credentialsEnc ? "bearer" : "none",
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
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    });
  });
}
