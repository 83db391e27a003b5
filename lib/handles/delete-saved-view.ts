import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { AppError } from "@/lib/errors";

const NOT_FOUND = "No such saved view.";

/** Deletes one of the acting principal's saved views. Another principal's view is not found, like a missing one. */
export async function deleteSavedView(input: { actor: TActor; id: unknown }): Promise<{ id: string; name: string }> {
  const { actor } = input;
  assertCan(actor, "handles.read");
  const id = z.uuid().safeParse(input.id);
  if (!id.success || actor.type === "system") throw new AppError("NOT_FOUND", NOT_FOUND);

  return getPrisma().$transaction(async (tx) => {
    // Owner in the WHERE clause: a view of someone else is indistinguishable from no view.
    const [row] = await tx.$queryRaw<Array<{ name: string }>>`
      DELETE FROM handle_saved_view WHERE id = ${id.data}::uuid AND principal_id = ${actor.id}::uuid RETURNING name`;
    if (!row) throw new AppError("NOT_FOUND", NOT_FOUND);
    await recordAuditEvent(tx, { actor, action: "view.deleted", target: { type: "handle_view", id: id.data }, payload: { viewId: id.data, name: row.name } });
    return { id: id.data, name: row.name };
  });
}
