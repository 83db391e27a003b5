import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";

/** The newest audit events (the full, filterable audit page builds on this). */
export async function listAuditEvents(input: { actor: TActor; limit?: number }) {
  assertCan(input.actor, "audit.read");
  return getPrisma().auditEvent.findMany({ orderBy: { seq: "desc" }, take: Math.min(input.limit ?? 100, 500) });
}
