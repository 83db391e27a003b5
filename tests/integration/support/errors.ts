import { expect } from "vitest";
import { AppError, type TErrorCode } from "@/lib/errors";

/** Awaits a promise that must reject with an AppError of `code`, and returns that error. */
export async function expectAppError(promise: Promise<unknown>, code: TErrorCode): Promise<AppError> {
  const outcome = await promise.then(
    (value: unknown) => ({ rejected: false as const, value }),
    (error: unknown) => ({ rejected: true as const, error }),
  );
  if (!outcome.rejected) throw new Error(`expected an AppError ${code}, but it resolved with ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(AppError);
  const error = outcome.error as AppError;
  expect(error.code, `${error.code}: ${error.message}`).toBe(code);
  return error;
}

/** The field paths an INVALID_INPUT / CONFLICT error names. */
export function issuePaths(error: AppError): string[] {
  return [...new Set((error.issues ?? []).map((issue) => issue.path))].sort();
}
