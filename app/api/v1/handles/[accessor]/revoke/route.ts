// POST /api/v1/handles/:accessor/revoke {reason} — revoke one handle; the next gateway call is refused (handles.revoke; already revoked or expired: 409 with error.handle)
import { getHandle } from "@/lib/handles/get-handle";
import { withHandleStateBody } from "@/lib/handles/handle-state";
import { revokeHandle } from "@/lib/handles/revoke-handle";
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";

export const dynamic = "force-dynamic";

const objectOf = (body: unknown) => (body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : {});

export const POST = apiRoute<{ accessor: string }>(async ({ actor, request, params, requestId }) => {
  const body = objectOf(await readJsonBody(request));
  return withHandleStateBody(requestId, async () => {
    await revokeHandle({ actor, data: { accessor: params.accessor, reason: body.reason } });
    return Response.json(await getHandle({ actor, accessor: params.accessor }), { headers: { "Cache-Control": "no-store" } });
  });
});
