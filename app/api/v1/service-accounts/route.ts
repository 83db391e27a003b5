// GET /api/v1/service-accounts — list agent principals (keys.manage)
// POST /api/v1/service-accounts {name, role?} — create one; role defaults to viewer (keys.manage)
import { createServiceAccount } from "@/lib/api-keys/create-service-account";
import { listServiceAccounts } from "@/lib/api-keys/list-service-accounts";
import { apiRoute } from "@/lib/http/api-route";
import { readJsonBody } from "@/lib/http/read-json-body";

export const dynamic = "force-dynamic";

export const GET = apiRoute(async ({ actor }) => {
  const data = await listServiceAccounts({ actor });
  return Response.json({ data }, { headers: { "Cache-Control": "no-store" } });
});

export const POST = apiRoute(async ({ actor, request }) => {
  const account = await createServiceAccount({ actor, data: await readJsonBody(request) });
  return Response.json(account, { status: 201, headers: { "Cache-Control": "no-store" } });
});
