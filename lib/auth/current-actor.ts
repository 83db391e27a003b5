import "server-only";
import { getServerSession } from "next-auth";
import { headers } from "next/headers";
import { forbidden, redirect } from "next/navigation";
import { REQUEST_PATH_HEADER, requestMetaFrom } from "@/lib/http/request-meta";
import { safeReturnPath } from "@/lib/http/safe-return-path";
import type { TActor } from "./actor";
import { buildAuthOptions } from "./auth-options";
import { getConsoleActor } from "./get-console-actor";
import { roleCan, type TPermission } from "./permissions";

/** The signed-in console user of this request, or null. */
export async function getCurrentActor(): Promise<TActor | null> {
  const meta = requestMetaFrom(await headers());
  const session = (await getServerSession(buildAuthOptions(meta))) as { sid?: string } | null;
  if (!session?.sid) return null;
  return getConsoleActor(session.sid, meta);
}

/**
 * For pages: sends a signed-out visitor to sign-in and answers 403 when the role lacks the
 * permission. Use cases still check for themselves; this only picks the right page.
 */
export async function requirePageActor(permission?: TPermission): Promise<TActor & { type: "user" }> {
  const actor = await getCurrentActor();
  if (!actor || actor.type !== "user") {
    const returnTo = safeReturnPath((await headers()).get(REQUEST_PATH_HEADER), "");
    redirect(returnTo && returnTo !== "/" ? `/signin?callbackUrl=${encodeURIComponent(returnTo)}` : "/signin");
  }
  if (permission && !roleCan(actor.role, permission)) forbidden();
  return actor;
}
