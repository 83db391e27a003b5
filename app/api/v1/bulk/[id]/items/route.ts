// GET /api/v1/bulk/:id/items?after&limit&result — the per-handle results in processing order, paged by ordinal (handles.bulk_revoke)
import { listBulkActionItems } from "@/lib/bulk/list-bulk-action-items";
import { apiRoute } from "@/lib/http/api-route";

export const dynamic = "force-dynamic";

export const GET = apiRoute<{ id: string }>(async ({ actor, request, params }) => {
  const query = { ...Object.fromEntries(request.nextUrl.searchParams), id: params.id };
  return Response.json(await listBulkActionItems({ actor, query }), { headers: { "Cache-Control": "no-store" } });
});
