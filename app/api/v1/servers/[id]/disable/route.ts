// POST /api/v1/servers/:id/disable {reason} — disable: the gateway stops serving it, health checks stop (servers.manage)
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";
import { setServerEnabled } from "@/lib/servers/set-server-enabled";

export const dynamic = "force-dynamic";

export const POST = apiRoute<{ id: string }>(async ({ actor, request, params }) => {
  const body = await readJsonBody(request);
  const reason = body && typeof body === "object" ? (body as { reason?: unknown }).reason : undefined;
  return Response.json(await setServerEnabled({ actor, data: { serverId: params.id, enabled: false, reason } }), { headers: { "Cache-Control": "no-store" } });
});
