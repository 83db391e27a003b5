// GET /api/health — liveness for load balancers: 200 when the database answers, else 503.
import { getHealth } from "@/lib/health/get-health";

export const dynamic = "force-dynamic";

export async function GET() {
  const health = await getHealth();
  return Response.json(health, { status: health.db === "up" ? 200 : 503, headers: { "Cache-Control": "no-store" } });
}
