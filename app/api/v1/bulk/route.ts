// POST /api/v1/bulk {kind, selection, reason, expectedCount, fingerprint?, asOf?} — request a bulk revoke or cancel of exactly the previewed set; 409 with error.preview when the set changed (handles.bulk_revoke)
// GET /api/v1/bulk?status&limit&before — bulk actions, newest first (handles.bulk_revoke)
import { withBulkConflictBody } from "@/lib/bulk/bulk-conflict-body";
import { createBulkAction } from "@/lib/bulk/create-bulk-action";
import { listBulkActions } from "@/lib/bulk/list-bulk-actions";
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";

export const dynamic = "force-dynamic";

export const POST = apiRoute(async ({ actor, request, requestId }) => {
  const data = await readJsonBody(request);
  return withBulkConflictBody(requestId, async () =>
    Response.json(await createBulkAction({ actor, data }), { status: 201, headers: { "Cache-Control": "no-store" } }),
  );
});

export const GET = apiRoute(async ({ actor, request }) => {
  const query = Object.fromEntries(request.nextUrl.searchParams);
  return Response.json(await listBulkActions({ actor, query }), { headers: { "Cache-Control": "no-store" } });
});
