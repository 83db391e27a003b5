// GET /api/v1/servers — registered upstream servers with health and capabilities (servers.read)
// POST /api/v1/servers {name, slug, url, bearerToken? | oauth?: {tokenUrl, clientId, clientSecret, scope?, resource?, audience?}, audience?, tags?, poll*, force?} — register one after a connection check (servers.manage)
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";
import { listServers } from "@/lib/servers/list-servers";
import { registerServer } from "@/lib/servers/register-server";
import { withProbeFailureBody } from "@/lib/servers/probe-failed-error";

export const dynamic = "force-dynamic";

export const GET = apiRoute(async ({ actor }) => {
  const data = await listServers({ actor });
  return Response.json({ data }, { headers: { "Cache-Control": "no-store" } });
});

export const POST = apiRoute(async ({ actor, request, requestId }) => {
  const data = await readJsonBody(request);
  return withProbeFailureBody(requestId, async () => Response.json(await registerServer({ actor, data }), { status: 201, headers: { "Cache-Control": "no-store" } }));
});
