import "server-only";
import { AppError } from "@/lib/errors";
import { REQUEST_ID_HEADER } from "@/lib/http/request-meta";
import { PROBE_PROBLEM_LABELS, type TProbeResult } from "./schemas";
import type { TCredentialsKind } from "./server-credentials";

/** The field a failed check points at, for the form to highlight. */
function fieldOf(kind: keyof typeof PROBE_PROBLEM_LABELS, credentials: TCredentialsKind): string {
  if (kind === "oauth_token_error") return "oauth";
  if (kind === "credentials_refused" || kind === "credentials_unreadable") return credentials === "oauth_client_credentials" ? "oauth" : "bearerToken";
  return "url";
}

/**
 * A failed connection check the admin has not overridden: 422 naming exactly what failed. The
 * check itself rides along in `details.probe` for adapters that show it (the REST API does).
 */
export function probeFailedError(
  result: TProbeResult,
  forceEffect = "save anyway (force); the server is then saved disabled",
  credentials: TCredentialsKind = "bearer",
): AppError {
  const kind = result.problem?.kind ?? "protocol_error";
  const label = PROBE_PROBLEM_LABELS[kind];
  const message = result.problem?.message ?? "The connection check failed.";
  return new AppError("INVALID_INPUT", `${label}: ${message} Fix it and try again, or ${forceEffect}.`, {
    issues: [
      { path: "probe", message: `${label}: ${message}` },
      { path: fieldOf(kind, credentials), message: label },
    ],
    details: { probe: result },
  });
}

/** The failed check an error carries, if it is one of those. */
export function probeOfError(err: unknown): TProbeResult | null {
  if (!(err instanceof AppError)) return null;
  const probe = err.details?.probe;
  return probe && typeof probe === "object" ? (probe as TProbeResult) : null;
}

/**
 * For REST adapters: a failed check answers like any 422 (`{error: {code, message, issues}}`)
 * plus `error.probe`, the check itself, so a client can branch on `probe.problem.kind`.
 */
export async function withProbeFailureBody(requestId: string, run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (err) {
    const probe = probeOfError(err);
    if (!probe || !(err instanceof AppError)) throw err;
    return Response.json(
      { error: { code: err.code, message: err.message, issues: err.issues ?? [], probe } },
      { status: err.status, headers: { [REQUEST_ID_HEADER]: requestId, "Cache-Control": "no-store" } },
    );
  }
}
