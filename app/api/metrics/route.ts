// GET /api/metrics — Prometheus exposition; a scraper's TETHER_METRICS_TOKEN, or metrics.read.
import type { NextRequest } from "next/server";
import { safeEqual } from "@/lib/crypto/secrets";
import { getEnv } from "@/lib/env";
import { apiRoute } from "@/lib/http/api-route";
import { renderMetrics } from "@/lib/metrics/render-metrics";

export const dynamic = "force-dynamic";

const asResponse = ({ contentType, body }: { contentType: string; body: string }) =>
  new Response(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });

const forConsoleOrAgent = apiRoute(async ({ actor }) => asResponse(await renderMetrics({ actor })));

export async function GET(request: NextRequest, context: { params: Promise<Record<string, never>> }): Promise<Response> {
  const token = getEnv().TETHER_METRICS_TOKEN;
  const bearer = /^\s*Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  if (bearer && !bearer.startsWith("tth_")) {
    // Not an API key: it is the scraper's token or nothing (never a fall-back to the cookie).
    if (token && safeEqual(bearer, token)) return asResponse(await renderMetrics({ actor: null }));
    return Response.json({ error: { code: "UNAUTHENTICATED", message: "Invalid metrics token." } }, { status: 401, headers: { "www-authenticate": "Bearer", "cache-control": "no-store" } });
  }
  return forConsoleOrAgent(request, context);
}
