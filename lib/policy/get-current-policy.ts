import "server-only";
import { getPrisma } from "@/lib/db/client";
import type { TTx } from "@/lib/db/types";
import { AppError } from "@/lib/errors";
import { toPolicy } from "./to-policy";
import type { TPolicy } from "./schemas";

/**
 * The policy in force: the highest version. On the gateway's hot path, so it is one query that
 * reads the primary key index backwards (no join, no audit). Pass `db` to read inside a
 * transaction (minting takes lockPolicyShared first, so the version it records stays current
 * until it commits). Not a use case with an actor: every caller that enforces the policy needs it.
 */
export async function getCurrentPolicy(options: { db?: TTx } = {}): Promise<TPolicy> {
  const row = await (options.db ?? getPrisma()).handlePolicy.findFirst({ orderBy: { version: "desc" } });
  // Fail closed: without a policy nothing may be minted or honoured. `npm start` installs version 1.
  if (!row) throw new AppError("UNAVAILABLE", "No handle policy is installed. Start Tether with `npm start` or run `npm run db:seed`.");
  return toPolicy(row);
}
