// GET /api/v1/reports — the compliance reports, newest first, with who asked for each and its progress or outcome (reports.read)
// POST /api/v1/reports {preset, quarter?, start?, end?} or {regenerate: id} — queue a report for a period (reports.generate)
import { listReports } from "@/lib/compliance/list-reports";
import { requestReport } from "@/lib/compliance/request-report";
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";

export const dynamic = "force-dynamic";

export const GET = apiRoute(async ({ actor }) => {
  return Response.json({ data: await listReports({ actor }) }, { headers: { "Cache-Control": "no-store" } });
});

export const POST = apiRoute(async ({ actor, request }) => {
  const report = await requestReport({ actor, data: await readJsonBody(request) });
  return Response.json(report, { status: 202, headers: { "Cache-Control": "no-store", Location: `/api/v1/reports/${report.id}` } });
});
