import "server-only";
import type { TPrismaClient } from "@/lib/db/client";
import type { TTx } from "@/lib/db/types";
import { AppError } from "@/lib/errors";
import { ZServerId } from "./schemas";

export function serverNotFound(): AppError {
  return new AppError("NOT_FOUND", "No such server.");
}

/** The id of a request, when it can name a server at all; anything else is simply not found. */
export function serverIdOf(data: unknown): string {
  const id = data && typeof data === "object" ? (data as { serverId?: unknown }).serverId : undefined;
  const parsed = ZServerId.safeParse(id);
  if (!parsed.success) throw serverNotFound();
  return parsed.data;
}

/** A registered server that has not been removed (removed servers are invisible everywhere), or 404. */
export async function findVisibleServer(db: TPrismaClient | TTx, serverId: string) {
  const server = await db.mcpServer.findFirst({ where: { id: serverId, removedAt: null } });
  if (!server) throw serverNotFound();
  return server;
}

/**
 * Locks the server's row for the rest of the transaction and returns it, or 404 when it is gone.
 * Changes that checked the upstream first (outside the transaction) re-read it here.
 */
export async function lockVisibleServer(tx: TTx, serverId: string) {
  await tx.$queryRaw`SELECT id FROM mcp_server WHERE id = ${serverId}::uuid FOR UPDATE`;
  return findVisibleServer(tx, serverId);
}
