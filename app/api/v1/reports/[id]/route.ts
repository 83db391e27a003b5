// GET /api/v1/reports/:id — the report's status, progress and summary (reports.read; unknown: 404)
// GET /api/v1/reports/:id?format=json|csv|oscal|html — the generated report, audited as report.exported (still generating: 409)
import { exportReport } from "@/lib/compliance/export-report";
import { getReport } from "@/lib/compliance/get-report";
import { apiRoute } from "@/lib/http/api-route";
import { getEnv } from "@/lib/env";

export const dynamic = "force-dynamic";

export const GET = apiRoute<{ id: string }>(async ({ actor, params, request }) => {
  const format = request.nextUrl.searchParams.get("format");
  if (format === null) {
    const { content: _content, ...report } = await getReport({ actor, id: params.id, audit: false });
    return Response.json(report, { headers: { "Cache-Control": "no-store" } });
  }
  const out = await exportReport({ actor, id: params.id, format, baseUrl: getEnv().TETHER_PUBLIC_URL?.replace(/\/+$/, "") ?? request.nextUrl.origin });
  const inline = out.format === "html" && request.nextUrl.searchParams.get("download") === null;
  return new Response(out.body, {
    headers: {
      "Content-Type": out.contentType,
      "Content-Disposition": `${inline ? "inline" : "attachment"}; filename="${out.filename}"`,
      "Cache-Control": "no-store",
      "X-Tether-Report-SHA256": out.contentSha256,
      ...(out.format === "html" ? { "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:" } : {}),
    },
  });
});
