import "server-only";
import { getPrisma } from "@/lib/db/client";
import type { TActor, TRequestMeta } from "./actor";

/**
 * Resolves a console session id (from the signed cookie) to the acting user. The row is
 * the authority: an ended or expired session, or a disabled user, gives null even while
 * the cookie is still validly signed, and a role change applies at the next request.
 */
export async function getConsoleActor(sessionId: string, request: TRequestMeta): Promise<TActor | null> {
  const session = await getPrisma().consoleSession.findUnique({
    where: { id: sessionId },
    include: { principal: true },
  });
  if (!session || session.endedAt || session.expiresAt <= new Date()) return null;
  const p = session.principal;
  if (p.disabledAt || p.kind !== "user") return null;
  return { type: "user", id: p.id, role: p.role, name: p.name, email: p.email, sessionId: session.id, request };
}
