// GET /api/v1/handles/:accessor/timeline?after&limit — the handle's audit events, oldest first, paged by sequence number (handles.read)
import { listHandleTimeline } from "@/lib/handles/list-handle-timeline";
import { apiRoute } from "@/lib/http/api-route";

export const dynamic = "force-dynamic";

export const GET = apiRoute<{ accessor: string }>(async ({ actor, request, params }) => {
  const search = request.nextUrl.searchParams;
  const query = { accessor: params.accessor, after: search.get("after") ?? undefined, limit: search.get("limit") ?? undefined };
  return Response.json(await listHandleTimeline({ actor, query }), { headers: { "Cache-Control": "no-store" } });
});
