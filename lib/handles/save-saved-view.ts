import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { AppError, invalidInput } from "@/lib/errors";
import { SAVED_VIEWS_MAX, toSavedViewDto, ZSaveViewInput, type TSavedViewDto } from "./saved-view-schemas";

/**
 * Saves the inventory's current filter under a name, for the acting principal only. Saving under
 * a name the principal already uses replaces that view (`replaced: true`). The query string is
 * checked with the inventory's strict filter schema and stored in its canonical form.
 */
export async function saveSavedView(input: { actor: TActor; data: unknown }): Promise<{ view: TSavedViewDto; replaced: boolean }> {
  const { actor } = input;
  assertCan(actor, "handles.read");
  if (actor.type === "system") throw new AppError("FORBIDDEN", "Saved views belong to a user or an agent.");
  const parsed = ZSaveViewInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error, "The view has invalid fields.");
  const { name, query } = parsed.data;

  return getPrisma().$transaction(async (tx) => {
    // Serialises one principal's saves, so the cap holds under concurrent requests.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('tether:saved-views:' || ${actor.id}))`;
    const existing = await tx.handleSavedView.findUnique({ where: { principalId_name: { principalId: actor.id, name } }, select: { id: true } });
    if (!existing && (await tx.handleSavedView.count({ where: { principalId: actor.id } })) >= SAVED_VIEWS_MAX) {
      throw new AppError("CONFLICT", `You already have ${SAVED_VIEWS_MAX} saved views. Delete one first.`);
    }
    const row = existing
      ? await tx.handleSavedView.update({ where: { id: existing.id }, data: { query } })
      : await tx.handleSavedView.create({ data: { principalId: actor.id, name, query } });
    await recordAuditEvent(tx, {
      actor,
      action: "view.saved",
      target: { type: "handle_view", id: row.id },
      payload: { viewId: row.id, name, query, replaced: Boolean(existing) },
    });
    return { view: toSavedViewDto(row), replaced: Boolean(existing) };
  });
}
