// GET /api/v1/handles/export?<inventory filter> — every matching handle as CSV, streamed and audited (handles.read)
import { exportHandles } from "@/lib/handles/export-handles";
import { toQueryRecord } from "@/lib/handles/handle-filter-schema";
import { apiRoute } from "@/lib/http/api-route";

export const dynamic = "force-dynamic";

export const GET = apiRoute(async ({ request, actor }) => {
  const { stream, filename, contentType, rowCount } = await exportHandles({ actor, query: toQueryRecord(request.nextUrl.searchParams) });
  return new Response(stream, {
    headers: {
      "Content-Type": contentType,
      "Content-Disposition": `attachment; filename="${filename}"`,
      "Cache-Control": "no-store",
      "X-Tether-Row-Count": String(rowCount),
    },
  });
});
