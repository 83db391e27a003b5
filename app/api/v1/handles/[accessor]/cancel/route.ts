// POST /api/v1/handles/:accessor/cancel {reason} — tasks/cancel upstream, outcome recorded, handle revoked (handles.cancel; revoked, expired or ended: 409 with error.handle)
import { cancelHandle } from "@/lib/handles/cancel-handle";
import { withHandleStateBody } from "@/lib/handles/handle-state";
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";

export const dynamic = "force-dynamic";

const objectOf = (body: unknown) => (body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : {});

export const POST = apiRoute<{ accessor: string }>(async ({ actor, request, params, requestId }) => {
  const body = objectOf(await readJsonBody(request));
  return withHandleStateBody(requestId, async () =>
    Response.json(await cancelHandle({ actor, data: { accessor: params.accessor, reason: body.reason } }), { headers: { "Cache-Control": "no-store" } }),
  );
});
