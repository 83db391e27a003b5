// GET /api/v1/handle-views — the caller's own saved inventory views (handles.read)
// POST /api/v1/handle-views {name, query} — save the inventory query string under a name; the same name replaces (handles.read)
import { listSavedViews } from "@/lib/handles/list-saved-views";
import { saveSavedView } from "@/lib/handles/save-saved-view";
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";

export const dynamic = "force-dynamic";

export const GET = apiRoute(async ({ actor }) => {
  return Response.json({ data: await listSavedViews({ actor }) }, { headers: { "Cache-Control": "no-store" } });
});

export const POST = apiRoute(async ({ actor, request }) => {
  const { view, replaced } = await saveSavedView({ actor, data: await readJsonBody(request) });
  return Response.json({ view, replaced }, { status: replaced ? 200 : 201, headers: { "Cache-Control": "no-store" } });
});
