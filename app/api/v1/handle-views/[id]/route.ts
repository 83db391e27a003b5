// DELETE /api/v1/handle-views/:id — delete one of the caller's saved views; anyone else's is 404 (handles.read)
import { deleteSavedView } from "@/lib/handles/delete-saved-view";
import { apiRoute } from "@/lib/http/api-route";

export const dynamic = "force-dynamic";

export const DELETE = apiRoute<{ id: string }>(async ({ actor, params }) => {
  return Response.json(await deleteSavedView({ actor, id: params.id }), { headers: { "Cache-Control": "no-store" } });
});
