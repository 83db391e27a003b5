import "server-only";
import { AppError } from "@/lib/errors";

const MAX_BODY_BYTES = 64 * 1024;

/**
 * The JSON body of a REST request, for the use case's schema to validate. Malformed JSON, a
 * body that is not JSON, or an oversized one is the caller's error (4xx), never a 500.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/([a-z0-9.+-]*\+)?json\b/i.test(type.trim())) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send a JSON body (Content-Type: application/json).");
  }
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw new AppError("PAYLOAD_TOO_LARGE", `The body may have at most ${MAX_BODY_BYTES} bytes.`);
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new AppError("PAYLOAD_TOO_LARGE", `The body may have at most ${MAX_BODY_BYTES} bytes.`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError("INVALID_INPUT", "The body is not valid JSON.", { issues: [{ path: "(root)", message: "The body is not valid JSON." }] });
  }
}
