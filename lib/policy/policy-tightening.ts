import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { Prisma } from "@/lib/db/generated/client";
import type { TTx } from "@/lib/db/types";
import type { TPolicySettings } from "./schemas";

// What a policy change does to handles that are live now. The preview counts with exactly the
// predicates the change executes with (the fragments below are the only definition), so the
// numbers an admin sees before saving are the numbers the change produces.

export const POLICY_REVOKE_TRIGGER = "policy_tightened";

export type TTighteningPlan = {
  /** The version the change creates. */
  newVersion: number;
  /** Handles issued under any version before newVersion stop being honoured. */
  invalidateOlderVersions: boolean;
  /** Set only when the maximum TTL goes down: no live handle may outlive created + this. */
  newMaxTtlMs: number | null;
};

export function planTightening(current: TPolicySettings & { version: number }, next: TPolicySettings, newVersion: number): TTighteningPlan {
  return {
    newVersion,
    invalidateOlderVersions: next.minValidVersion > current.minValidVersion,
    newMaxTtlMs: next.maxTtlMs < current.maxTtlMs ? next.maxTtlMs : null,
  };
}

// Live: not revoked, not expired, and the upstream task still running. Handles of finished tasks
// are left as they are (they only read a stored result until they expire); the gateway still
// refuses them per call once their version is below the policy's minValidVersion.
const LIVE = Prisma.sql`h.revoked_at IS NULL AND h.expires_at > now() AND h.status IN ('working', 'input_required')`;

function maxExpiry(plan: TTighteningPlan): Prisma.Sql {
  return Prisma.sql`h.created_at + ${plan.newMaxTtlMs}::integer * interval '1 millisecond'`;
}

/** Why a live handle is revoked: issued under an older version, or already older than the new maximum TTL. */
function revokeCauses(plan: TTighteningPlan): Prisma.Sql | null {
  const causes: Prisma.Sql[] = [];
  if (plan.invalidateOlderVersions) causes.push(Prisma.sql`h.policy_version < ${plan.newVersion}::integer`);
  // "<=": a handle whose new expiry is now is expired, and expired handles are not clamped.
  if (plan.newMaxTtlMs !== null) causes.push(Prisma.sql`${maxExpiry(plan)} <= now()`);
  return causes.length ? Prisma.sql`(${Prisma.join(causes, " OR ")})` : null;
}

function revokeWhere(plan: TTighteningPlan): Prisma.Sql | null {
  const causes = revokeCauses(plan);
  return causes ? Prisma.sql`${LIVE} AND ${causes}` : null;
}

function clampWhere(plan: TTighteningPlan): Prisma.Sql | null {
  if (plan.newMaxTtlMs === null) return null;
  const causes = revokeCauses(plan)!;
  return Prisma.sql`${LIVE} AND NOT ${causes} AND h.expires_at > ${maxExpiry(plan)}`;
}

/** How many live handles the plan would revoke and clamp, as of now. */
export async function countTightening(db: TTx, plan: TTighteningPlan): Promise<{ revoked: number; clamped: number }> {
  const revoke = revokeWhere(plan);
  const clamp = clampWhere(plan);
  if (!revoke && !clamp) return { revoked: 0, clamped: 0 };
  const [row] = await db.$queryRaw<Array<{ revoked: number; clamped: number }>>`
    SELECT ${revoke ? Prisma.sql`(SELECT count(*)::integer FROM handle h WHERE ${revoke})` : Prisma.sql`0`} AS revoked,
           ${clamp ? Prisma.sql`(SELECT count(*)::integer FROM handle h WHERE ${clamp})` : Prisma.sql`0`} AS clamped`;
  return { revoked: row?.revoked ?? 0, clamped: row?.clamped ?? 0 };
}

/**
 * Applies the plan inside the policy change's transaction: one UPDATE … RETURNING for the
 * revocations and one for the clamped expiries, then one audit event per affected handle.
 * recordAuditEvent is one INSERT per row; that is fine up to a few thousand handles within the
 * change's transaction timeout. Beyond that, batch the audit inserts (one multi-row INSERT).
 */
export async function applyTightening(
  tx: TTx,
  plan: TTighteningPlan,
  input: { actor: TActor; reason: string },
): Promise<{ revoked: number; clamped: number }> {
  const { actor } = input;
  const revokeReason = `policy v${plan.newVersion}: ${input.reason}`;
  // revoked_by_id references a principal; Tether's own workers have none (the audit event names them).
  const revokedById = actor.type === "system" ? null : actor.id;

  const revoke = revokeWhere(plan);
  const revoked = revoke
    ? await tx.$queryRaw<Array<{ id: string; accessor: string; serverId: string }>>`
        UPDATE handle h
           SET revoked_at = now(), revoked_by_id = ${revokedById}::uuid, revoke_reason = ${revokeReason}, revoke_trigger = ${POLICY_REVOKE_TRIGGER}
         WHERE ${revoke}
        RETURNING h.id::text AS id, h.accessor, h.server_id::text AS "serverId"`
    : [];

  // Revoked rows are no longer live, so they drop out here; the NOT in clampWhere makes that
  // explicit, so the preview (which cannot revoke first) counts the same set.
  const clamp = clampWhere(plan);
  const clamped = clamp
    ? await tx.$queryRaw<Array<{ id: string; accessor: string; from: Date; to: Date }>>`
        UPDATE handle h
           SET expires_at = ${maxExpiry(plan)}, effective_ttl_ms = LEAST(h.effective_ttl_ms, ${plan.newMaxTtlMs}::integer)
          FROM (SELECT h.id, h.expires_at FROM handle h WHERE ${clamp} FOR UPDATE) AS old
         WHERE h.id = old.id
        RETURNING h.id::text AS id, h.accessor, old.expires_at AS "from", h.expires_at AS "to"`
    : [];

  for (const h of revoked) {
    await recordAuditEvent(tx, {
      actor,
      action: "handle.revoked",
      target: { type: "handle", id: h.id },
      reason: revokeReason,
      payload: { accessor: h.accessor, trigger: POLICY_REVOKE_TRIGGER, serverId: h.serverId },
    });
  }
  for (const h of clamped) {
    await recordAuditEvent(tx, {
      actor,
      action: "handle.ttl_clamped",
      target: { type: "handle", id: h.id },
      reason: revokeReason,
      payload: { accessor: h.accessor, from: h.from.toISOString(), to: h.to.toISOString() },
    });
  }
  return { revoked: revoked.length, clamped: clamped.length };
}
