// GET /api/v1/audit/public-key — the PEM public key (and its key id) that checkpoints are signed with.
import { getAuditPublicKey } from "@/lib/audit/get-audit-public-key";
import { apiRoute } from "@/lib/http/api-route";

export const dynamic = "force-dynamic";

export const GET = apiRoute(async ({ actor, request }) => {
  const key = getAuditPublicKey({ actor });
  if (request.nextUrl.searchParams.get("format") === "pem") {
    return new Response(key.publicKeyPem, { headers: { "Content-Type": "application/x-pem-file", "Content-Disposition": `attachment; filename="tether-audit-${key.keyId}.pem"` } });
  }
  return Response.json(key);
});
