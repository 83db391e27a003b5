import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { toSavedViewDto, type TSavedViewDto } from "./saved-view-schemas";

/** The acting principal's own saved views of the inventory, by name. Nobody sees another's. */
export async function listSavedViews(input: { actor: TActor }): Promise<TSavedViewDto[]> {
  assertCan(input.actor, "handles.read");
  if (input.actor.type === "system") return [];
  const rows = await getPrisma().handleSavedView.findMany({ where: { principalId: input.actor.id }, orderBy: [{ name: "asc" }, { id: "asc" }] });
  return rows.map(toSavedViewDto);
}
