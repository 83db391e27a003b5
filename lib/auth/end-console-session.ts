import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import { getPrisma } from "@/lib/db/client";
import type { TRequestMeta } from "./actor";

/** Sign-out: ends the session row so the cookie stops working everywhere, and audits it. */
export async function endConsoleSession(input: { sessionId: string; request: TRequestMeta }): Promise<void> {
  await getPrisma().$transaction(async (tx) => {
    const session = await tx.consoleSession.findUnique({ where: { id: input.sessionId }, include: { principal: true } });
    if (!session || session.endedAt) return;
    // The guarded update makes a double sign-out record one event.
    const { count } = await tx.consoleSession.updateMany({
      where: { id: session.id, endedAt: null },
      data: { endedAt: new Date(), endReason: "signed_out" },
    });
    if (count === 0) return;
    const p = session.principal;
    await recordAuditEvent(tx, {
      actor: { type: "user", id: p.id, role: p.role, name: p.name, email: p.email, sessionId: session.id, request: input.request },
      action: "auth.signed_out",
      target: { type: "principal", id: p.id },
      payload: { sessionId: session.id },
    });
  });
}
