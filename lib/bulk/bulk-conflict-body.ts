import "server-only";
import { AppError } from "@/lib/errors";
import { REQUEST_ID_HEADER } from "@/lib/http/request-meta";

/**
 * For REST adapters: "the set changed" answers like any 409 (`{error: {code, message}}`) plus
 * `error.preview`, the set as it is now, so a client can show it and ask again. A bulk action in
 * the wrong state for a decision adds `error.status`.
 */
export async function withBulkConflictBody(requestId: string, run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof AppError) || err.status !== 409 || !err.details) throw err;
    const extra = "preview" in err.details ? { preview: err.details.preview } : "status" in err.details ? { status: err.details.status } : {};
    return Response.json(
      { error: { code: err.code, message: err.message, ...extra } },
      { status: err.status, headers: { [REQUEST_ID_HEADER]: requestId, "Cache-Control": "no-store" } },
    );
  }
}
