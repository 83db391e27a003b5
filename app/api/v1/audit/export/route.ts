// GET /api/v1/audit/export?from&to&format=ndjson|csv — stream the audit trail (audited).
import { exportAuditEvents } from "@/lib/audit/export-audit-events";
import { apiRoute } from "@/lib/http/api-route";

export const dynamic = "force-dynamic";

export const GET = apiRoute(async ({ request, actor }) => {
  const { stream, filename, contentType } = await exportAuditEvents({ actor, query: Object.fromEntries(request.nextUrl.searchParams) });
  return new Response(stream, {
    headers: { "Content-Type": contentType, "Content-Disposition": `attachment; filename="${filename}"`, "Cache-Control": "no-store" },
  });
});
