// GET /api/v1/audit/verify — recompute the whole audit chain now and report the first problem.
import { runAuditVerification } from "@/lib/audit/run-audit-verification";
import { apiRoute } from "@/lib/http/api-route";

export const dynamic = "force-dynamic";

export const GET = apiRoute(async ({ actor }) => {
  const result = await runAuditVerification({ actor, trigger: "api" });
  return Response.json(result, { status: 200, headers: { "Cache-Control": "no-store" } });
});
