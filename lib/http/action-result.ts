import "server-only";
import { isAppError, type TFieldIssue } from "@/lib/errors";
import { describeErrorForLog, log } from "@/lib/log";

export type TActionResult<T = undefined> =
  | { ok: true; data: T; message?: string }
  | { ok: false; error: string; code: string; fieldErrors: Record<string, string>; values?: Record<string, string> };

/**
 * Adapter for server actions: runs a use case and maps its AppError to a form state.
 * Anything else is logged with the request id and shown as a masked message.
 */
export async function toActionResult<T>(
  requestId: string,
  run: () => Promise<T>,
  message?: string,
  /** Echoed back on failure so the form can show what was typed (never pass secrets). */
  values?: Record<string, string>,
): Promise<TActionResult<T>> {
  try {
    const data = await run();
    return message ? { ok: true, data, message } : { ok: true, data };
  } catch (err) {
    if (isAppError(err) && err.status < 500) {
      return { ok: false, error: err.message, code: err.code, fieldErrors: fieldErrorsOf(err.issues), ...(values ? { values } : {}) };
    }
    if (err && typeof err === "object" && "digest" in err) throw err; // Next.js control flow (redirect, forbidden)
    log.error({ requestId, err: describeErrorForLog(err) }, "server action failed");
    return { ok: false, error: `Something went wrong. Request id: ${requestId}`, code: "INTERNAL", fieldErrors: {} };
  }
}

function fieldErrorsOf(issues: TFieldIssue[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of issues ?? []) out[issue.path] ??= issue.message;
  return out;
}
