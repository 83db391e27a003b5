// GET /api/v1/servers/:id — one server (servers.read)
// PATCH /api/v1/servers/:id {name?, url?, audience?, bearerToken? | oauth?: {…settings to change}, clearCredentials?, tags?, poll*?, recheck?, force?} — edit it; the slug never changes (servers.manage)
// DELETE /api/v1/servers/:id {reason, handling?: "revoke_all"|"keep_orphans"} — remove it; handling is required while it has live handles (servers.manage)
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";
import { getServer } from "@/lib/servers/get-server";
import { withProbeFailureBody } from "@/lib/servers/probe-failed-error";
import { removeServer } from "@/lib/servers/remove-server";
import { updateServer } from "@/lib/servers/update-server";

export const dynamic = "force-dynamic";

const objectOf = (body: unknown) => (body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : {});

export const GET = apiRoute<{ id: string }>(async ({ actor, params }) => {
  return Response.json(await getServer({ actor, serverId: params.id }), { headers: { "Cache-Control": "no-store" } });
});

export const PATCH = apiRoute<{ id: string }>(async ({ actor, request, params, requestId }) => {
  const body = objectOf(await readJsonBody(request));
  return withProbeFailureBody(requestId, async () => Response.json(await updateServer({ actor, data: { ...body, serverId: params.id } }), { headers: { "Cache-Control": "no-store" } }));
});

export const DELETE = apiRoute<{ id: string }>(async ({ actor, request, params }) => {
  const body = objectOf(await readJsonBody(request));
  return Response.json(await removeServer({ actor, data: { handling: body.handling, reason: body.reason, serverId: params.id } }), { headers: { "Cache-Control": "no-store" } });
});
