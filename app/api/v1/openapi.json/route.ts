// GET /api/v1/openapi.json — the REST API's OpenAPI 3.1 document, generated from the zod schemas
// the use cases validate with (lib/http/openapi.ts). Public: it describes, it grants nothing.
import { openApiDocument } from "@/lib/http/openapi";

export const dynamic = "force-static";

export function GET(): Response {
  return Response.json(openApiDocument(), { headers: { "Cache-Control": "public, max-age=300" } });
}
