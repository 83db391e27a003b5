import "server-only";
import type { TTx } from "@/lib/db/types";

/**
 * Serialises changes that could remove the last active administrator (two admins demoting
 * each other at the same moment would otherwise both pass the count check).
 */
export async function lockAdmins(tx: TTx): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('tether:admins'))`;
}
