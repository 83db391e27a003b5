// POST /api/v1/servers/:id/enable {reason?, force?} — enable after a connection check; force enables a failing server anyway (servers.manage)
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";
import { withProbeFailureBody } from "@/lib/servers/probe-failed-error";
import { setServerEnabled } from "@/lib/servers/set-server-enabled";

export const dynamic = "force-dynamic";

export const POST = apiRoute<{ id: string }>(async ({ actor, request, params, requestId }) => {
  // The body is optional here: a bare POST enables.
  const body = request.headers.get("content-length") === "0" || !request.body ? {} : await readJsonBody(request);
  const { reason, force } = (body && typeof body === "object" ? body : {}) as { reason?: unknown; force?: unknown };
  return withProbeFailureBody(requestId, async () =>
    Response.json(await setServerEnabled({ actor, data: { serverId: params.id, enabled: true, reason, force: force ?? false } }), { headers: { "Cache-Control": "no-store" } }),
  );
});
