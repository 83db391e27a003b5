import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import type { PrismaClient } from "@/lib/db/generated/client";
import { DEFAULT_POLICY } from "./default-policy";

/** Installs policy version 1 when there is none yet (idempotent; runs at every start). */
export async function ensureDefaultPolicy(db: PrismaClient, actor: TActor): Promise<boolean> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('tether:policy'))`;
    if (await tx.handlePolicy.findFirst({ select: { version: true } })) return false;
    await tx.handlePolicy.create({ data: { version: 1, ...DEFAULT_POLICY, reason: "initial default policy" } });
    await recordAuditEvent(tx, {
      actor,
      action: "policy.changed",
      target: { type: "policy", id: "1" },
      reason: "initial default policy",
      payload: { version: 1, changes: { ...DEFAULT_POLICY } },
    });
    return true;
  });
}
