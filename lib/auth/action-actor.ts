import "server-only";
import { AppError } from "@/lib/errors";
import type { TActor } from "./actor";
import { getCurrentActor } from "./current-actor";

/** For server actions: the signed-in actor, or UNAUTHENTICATED (permissions are the use case's job). */
export async function requireActionActor(): Promise<TActor> {
  const actor = await getCurrentActor();
  if (!actor) throw new AppError("UNAUTHENTICATED", "Your session has ended. Sign in again.");
  return actor;
}
