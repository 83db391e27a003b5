// GET /api/v1/handles?status&server&owner&session&tool&accessor&createdFrom&createdTo&expiresFrom&expiresTo&state&cancel&policy&wire&preset&sort&dir&limit&cursor
// — one keyset page of the handle inventory, the same filters as the /handles page (handles.read)
import { toQueryRecord } from "@/lib/handles/handle-filter-schema";
import { listHandles } from "@/lib/handles/list-handles";
import { apiRoute } from "@/lib/http/api-route";

export const dynamic = "force-dynamic";

export const GET = apiRoute(async ({ request, actor }) => {
  const page = await listHandles({ actor, filter: toQueryRecord(request.nextUrl.searchParams) });
  return Response.json(page, { headers: { "Cache-Control": "no-store" } });
});
