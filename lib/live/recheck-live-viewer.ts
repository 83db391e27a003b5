import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { getConsoleActor } from "@/lib/auth/get-console-actor";
import { roleCan } from "@/lib/auth/permissions";
import { getPrisma } from "@/lib/db/client";

export type TViewerCheck = "ok" | "signed-out" | "forbidden";

/**
 * Whether the viewer of a long-lived stream may still watch it: the console session has not ended
 * or expired and its user is not disabled (sign-out ends the stream within a heartbeat), the API
 * key is neither revoked nor expired and its agent not disabled, and the role (which an admin may
 * have changed meanwhile) still grants handles.read.
 */
export async function recheckLiveViewer(actor: TActor): Promise<TViewerCheck> {
  if (actor.type === "system") return "ok";
  let role = actor.role;
  if (actor.type === "user" && actor.sessionId) {
    const now = await getConsoleActor(actor.sessionId, actor.request);
    if (!now || now.type !== "user" || now.id !== actor.id) return "signed-out";
    role = now.role;
  } else if (actor.type === "service" && actor.apiKeyId) {
    const key = await getPrisma().apiKey.findUnique({
      where: { id: actor.apiKeyId },
      select: { revokedAt: true, expiresAt: true, principal: { select: { id: true, role: true, disabledAt: true } } },
    });
    if (!key || key.revokedAt || (key.expiresAt && key.expiresAt <= new Date()) || key.principal.disabledAt || key.principal.id !== actor.id) return "signed-out";
    role = key.principal.role;
  }
  return roleCan(role, "handles.read") ? "ok" : "forbidden";
}
