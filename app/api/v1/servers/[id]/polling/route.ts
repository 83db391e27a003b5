// POST /api/v1/servers/:id/polling {paused, reason} — pause or resume status polling of a server (servers.manage)
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";
import { setServerPolling } from "@/lib/servers/set-server-polling";

export const dynamic = "force-dynamic";

export const POST = apiRoute<{ id: string }>(async ({ actor, request, params }) => {
  const body = await readJsonBody(request);
  const fields = body && typeof body === "object" ? (body as Record<string, unknown>) : {};
  return Response.json(await setServerPolling({ actor, data: { serverId: params.id, paused: fields.paused, reason: fields.reason } }), { headers: { "Cache-Control": "no-store" } });
});
