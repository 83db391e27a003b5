// GET /api/v1/handles/:accessor — one handle: binding, TTLs, status, cancel state, revocation (handles.read; unknown: 404)
import { getHandle } from "@/lib/handles/get-handle";
import { apiRoute } from "@/lib/http/api-route";

export const dynamic = "force-dynamic";

export const GET = apiRoute<{ accessor: string }>(async ({ actor, params }) => {
  return Response.json(await getHandle({ actor, accessor: params.accessor }), { headers: { "Cache-Control": "no-store" } });
});
