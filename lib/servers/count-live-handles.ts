import "server-only";
import type { TTx } from "@/lib/db/types";

/** Handles of the server that the gateway would still honour: not revoked, not expired (database clock). */
export async function countLiveHandles(tx: TTx, serverId: string): Promise<number> {
  const [row] = await tx.$queryRaw<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM handle WHERE server_id = ${serverId}::uuid AND revoked_at IS NULL AND expires_at > now()`;
  return row?.n ?? 0;
}
