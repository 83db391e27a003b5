// GET /api/live?topics=handle,server — Server-Sent Events: handle and server changes as they commit,
// for the console's live updates (handles.read; console session or API key)
import { apiRoute } from "@/lib/http/api-route";
import { openLiveStream } from "@/lib/live/open-live-stream";

export const dynamic = "force-dynamic";

export const GET = apiRoute(async ({ request, actor }) => {
  const stream = await openLiveStream({ actor, query: Object.fromEntries(request.nextUrl.searchParams), signal: request.signal });
  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      // no-transform: no compression or other buffering proxy may hold frames back.
      "Cache-Control": "no-store, no-transform",
      "X-Accel-Buffering": "no",
    },
  });
});
