import { AppError } from "@/lib/errors";
import type { TActor } from "./actor";
import { roleCan, type TPermission } from "./permissions";

/** First line of every use case. The system actor runs internal work and holds every right. */
export function assertCan(actor: TActor, permission: TPermission): void {
  if (actor.type === "system") return;
  if (!roleCan(actor.role, permission)) {
    throw new AppError("FORBIDDEN", `Your role (${actor.role}) does not have the permission ${permission}.`);
  }
}

export function actorCan(actor: TActor, permission: TPermission): boolean {
  return actor.type === "system" || roleCan(actor.role, permission);
}
