// POST /api/v1/bulk/preview {kind, selection, asOf?} — the exact set a bulk revoke or cancel would act on: count, fingerprint, sample, breakdown by server and owner (handles.bulk_revoke; cancel also handles.cancel)
import { previewBulkAction } from "@/lib/bulk/preview-bulk-action";
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";

export const dynamic = "force-dynamic";

export const POST = apiRoute(async ({ actor, request }) => {
  const preview = await previewBulkAction({ actor, data: await readJsonBody(request) });
  return Response.json(preview, { headers: { "Cache-Control": "no-store" } });
});
