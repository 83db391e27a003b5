import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";

export type TAuditIntegrity = {
  sealedThrough: string | null;
  unsealed: number;
  lastCheckpoint: { position: string; hash: string; createdAt: Date; keyId: string } | null;
  lastVerification: { finishedAt: Date; ok: boolean; events: number; failure: { position: string; reason: string; detail: string } | null } | null;
};

/** The audit trail's integrity at a glance: chain head, signed checkpoint, last full verification. */
export async function getAuditIntegrity(input: { actor: TActor }): Promise<TAuditIntegrity> {
  assertCan(input.actor, "audit.read");
  const db = getPrisma();
  const [head, checkpoint, run, unsealed] = await Promise.all([
    db.auditChain.findFirst({ orderBy: { position: "desc" }, select: { position: true } }),
    db.auditCheckpoint.findFirst({ orderBy: { position: "desc" }, select: { position: true, hash: true, createdAt: true, keyId: true } }),
    db.auditVerificationRun.findFirst({ orderBy: { finishedAt: "desc" } }),
    db.$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM audit_event e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_seq = e.seq)`,
  ]);
  return {
    sealedThrough: head ? head.position.toString() : null,
    unsealed: unsealed[0]?.n ?? 0,
    lastCheckpoint: checkpoint ? { ...checkpoint, position: checkpoint.position.toString() } : null,
    lastVerification: run
      ? { finishedAt: run.finishedAt, ok: run.ok, events: run.events, failure: (run.failure as { position: string; reason: string; detail: string } | null) ?? null }
      : null,
  };
}
