// POST /api/v1/api-keys/:id/revoke {reason} — revoke a key and the live handles minted with it (keys.manage)
import { revokeApiKey } from "@/lib/api-keys/revoke-api-key";
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";

export const dynamic = "force-dynamic";

export const POST = apiRoute<{ id: string }>(async ({ actor, request, params }) => {
  const body = await readJsonBody(request);
  const reason = body && typeof body === "object" ? (body as { reason?: unknown }).reason : undefined;
  const apiKey = await revokeApiKey({ actor, data: { keyId: params.id, reason } });
  return Response.json(apiKey, { headers: { "Cache-Control": "no-store" } });
});
