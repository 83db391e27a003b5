// POST /api/v1/bulk/:id/cancel {reason} — stop a bulk action that has not finished; a running one stops at its next chunk (handles.bulk_revoke)
import { withBulkConflictBody } from "@/lib/bulk/bulk-conflict-body";
import { cancelBulkAction } from "@/lib/bulk/cancel-bulk-action";
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";

export const dynamic = "force-dynamic";

const objectOf = (body: unknown) => (body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : {});

export const POST = apiRoute<{ id: string }>(async ({ actor, request, params, requestId }) => {
  const body = objectOf(await readJsonBody(request));
  return withBulkConflictBody(requestId, async () =>
    Response.json(await cancelBulkAction({ actor, data: { id: params.id, reason: body.reason } }), { headers: { "Cache-Control": "no-store" } }),
  );
});
