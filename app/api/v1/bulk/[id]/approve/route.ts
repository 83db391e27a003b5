// POST /api/v1/bulk/:id/approve — the second reviewer's approval (two-person rule; the requester gets 403, a job not awaiting approval 409) (handles.bulk_revoke)
import { approveBulkAction } from "@/lib/bulk/approve-bulk-action";
import { withBulkConflictBody } from "@/lib/bulk/bulk-conflict-body";
import { apiRoute } from "@/lib/http/api-route";

export const dynamic = "force-dynamic";

export const POST = apiRoute<{ id: string }>(async ({ actor, params, requestId }) =>
  withBulkConflictBody(requestId, async () => Response.json(await approveBulkAction({ actor, id: params.id }), { headers: { "Cache-Control": "no-store" } })),
);
