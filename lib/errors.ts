// One error type for the whole core; each adapter translates it once (HTTP status,
// JSON-RPC error, page). Messages of 5xx errors are never shown to callers.

export const ERROR_STATUS = {
  /** A malformed query string (an unknown filter value, a page size over the maximum, a cut-off cursor). */
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_STATE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_INPUT: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type TErrorCode = keyof typeof ERROR_STATUS;

export type TFieldIssue = { path: string; message: string };

export class AppError extends Error {
  readonly code: TErrorCode;
  readonly issues: TFieldIssue[] | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: TErrorCode,
    message: string,
    extra: { issues?: TFieldIssue[]; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = "AppError";
    this.code = code;
    this.issues = extra.issues;
    this.details = extra.details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** Turns a zod error into INVALID_INPUT with one issue per field. */
export function invalidInput(
  error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> },
  message = "The request has invalid fields.",
): AppError {
  return new AppError("INVALID_INPUT", message, {
    issues: error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(root)", message: i.message })),
  });
}
