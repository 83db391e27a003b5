// PUT /api/v1/policy/thresholds {thresholds: {controlId: {target, partial}}, reason} — new policy version with these compliance thresholds (policy.manage)
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";
import { changeComplianceThresholds } from "@/lib/policy/change-compliance-thresholds";

export const dynamic = "force-dynamic";

export const PUT = apiRoute(async ({ actor, request }) => {
  return Response.json(await changeComplianceThresholds({ actor, data: await readJsonBody(request) }), { headers: { "Cache-Control": "no-store" } });
});
