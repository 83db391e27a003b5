// GET /api/v1/api-keys[?principalId] — list API keys, prefix and metadata only (keys.manage)
// POST /api/v1/api-keys {principalId, name, expiresInDays?} — issue a key; the only response that ever holds it
import { createApiKey } from "@/lib/api-keys/create-api-key";
import { listApiKeys } from "@/lib/api-keys/list-api-keys";
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";

export const dynamic = "force-dynamic";

export const GET = apiRoute(async ({ actor, request }) => {
  const principalId = request.nextUrl.searchParams.get("principalId") ?? undefined;
  const data = await listApiKeys({ actor, principalId });
  return Response.json({ data }, { headers: { "Cache-Control": "no-store" } });
});

export const POST = apiRoute(async ({ actor, request }) => {
  const { key, dto } = await createApiKey({ actor, data: await readJsonBody(request) });
  // no-store: the key must not stay in any cache between here and the caller.
  return Response.json({ key, apiKey: dto }, { status: 201, headers: { "Cache-Control": "no-store" } });
});
