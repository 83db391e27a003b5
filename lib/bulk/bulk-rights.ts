// Who may run which bulk action. Pure: the inventory uses it to offer the action bar; every bulk
// use case calls assertCanBulk first.
//
// Bulk revoke needs handles.bulk_revoke (reviewer, admin). A bulk cancel revokes every handle it
// cancels, so it needs handles.bulk_revoke and handles.cancel: reviewers and admins. Support
// staff cancel one task at a time (the handle page, the "queued and running" view).
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { roleCan, type TPermission, type TRole } from "@/lib/auth/permissions";
import type { TBulkKind } from "./schemas";

const NEEDS: Record<TBulkKind, TPermission[]> = {
  revoke: ["handles.bulk_revoke"],
  cancel: ["handles.bulk_revoke", "handles.cancel"],
};

/** Throws FORBIDDEN unless the actor may request, approve or stop a bulk action of this kind. */
export function assertCanBulk(actor: TActor, kind: TBulkKind): void {
  for (const permission of NEEDS[kind]) assertCan(actor, permission);
}

/** The bulk actions a role may run (for the UI only; the server checks again). */
export function bulkRightsOf(role: TRole): Record<TBulkKind, boolean> {
  return { revoke: NEEDS.revoke.every((p) => roleCan(role, p)), cancel: NEEDS.cancel.every((p) => roleCan(role, p)) };
}
