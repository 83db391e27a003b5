import "server-only";
import type { TTx } from "@/lib/db/types";

// One advisory key for everything that reads-then-writes the policy: ensureDefaultPolicy uses the
// same key (hashtext('tether:policy')), so installing version 1 and changing it never interleave.

/** Exclusive, until the transaction ends: policy changes run one at a time and get consecutive versions. */
export async function lockPolicy(tx: TTx): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('tether:policy'))`;
}

/**
 * Shared, until the transaction ends: for minting, so a handle is never issued under a version that
 * a concurrent change is replacing (the change waits for open mints, later mints see the new version).
 */
export async function lockPolicyShared(tx: TTx): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(hashtext('tether:policy'))`;
}
