// POST /api/v1/servers/probe {url, bearerToken? | oauth?} | {serverId, url?, bearerToken? | oauth?} — dry-run the connection check; writes nothing (servers.manage)
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";
import { probeServer } from "@/lib/servers/probe-server";

export const dynamic = "force-dynamic";

export const POST = apiRoute(async ({ actor, request }) => {
  return Response.json(await probeServer({ actor, data: await readJsonBody(request) }), { headers: { "Cache-Control": "no-store" } });
});
