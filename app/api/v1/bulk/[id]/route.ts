// GET /api/v1/bulk/:id — one bulk action: status, progress (done / skipped / failed of the total), items by result (handles.bulk_revoke)
import { getBulkAction } from "@/lib/bulk/get-bulk-action";
import { apiRoute } from "@/lib/http/api-route";

export const dynamic = "force-dynamic";

export const GET = apiRoute<{ id: string }>(async ({ actor, params }) => {
  return Response.json(await getBulkAction({ actor, id: params.id }), { headers: { "Cache-Control": "no-store" } });
});
