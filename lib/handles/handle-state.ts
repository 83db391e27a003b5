import "server-only";
import { AppError } from "@/lib/errors";
import { REQUEST_ID_HEADER } from "@/lib/http/request-meta";
import { TERMINAL_STATUSES } from "./apply-observed-status";
import { ZHandleStateDto, type THandleStateDto } from "./handle-detail-schemas";

type TStateRow = {
  accessor: string;
  status: string;
  cancelState: string;
  revokedAt: Date | null;
  revokeTrigger: string | null;
  expiresAt: Date;
};

/** A handle's state as callers see it in a 409: what it is now, never a secret column. */
export function handleStateOf(row: TStateRow, now = new Date()): THandleStateDto {
  const lifecycle = row.revokedAt ? "revoked" : row.expiresAt <= now ? "expired" : TERMINAL_STATUSES.has(row.status) ? "terminal" : "live";
  return ZHandleStateDto.parse({ ...row, lifecycle });
}

/** The sentence a 409 opens with, naming the state the handle is in. */
export function describeHandleState(state: THandleStateDto): string {
  switch (state.lifecycle) {
    case "revoked":
      return `This handle is already revoked (${state.revokeTrigger ?? "manual"}, ${state.revokedAt!.toISOString()}).`;
    case "expired":
      return `This handle expired at ${state.expiresAt.toISOString()}; the gateway already refuses it.`;
    case "terminal":
      return `The task has already ended (${state.status}).`;
    case "live":
      return state.cancelState === "requested" ? "A cancel of this handle is already in progress." : `The handle is ${state.status}.`;
  }
}

/** 409 carrying the handle's current state in `details.handle`. */
export function handleStateConflict(state: THandleStateDto, message = describeHandleState(state)): AppError {
  return new AppError("INVALID_STATE", message, { details: { handle: state } });
}

/**
 * For REST adapters: a wrong-state refusal answers like any 409 (`{error: {code, message}}`)
 * plus `error.handle`, the handle's current state, so a client can tell revoked from ended.
 */
export async function withHandleStateBody(requestId: string, run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (err) {
    const handle = err instanceof AppError && err.code === "INVALID_STATE" ? err.details?.handle : undefined;
    if (!handle || !(err instanceof AppError)) throw err;
    return Response.json(
      { error: { code: err.code, message: err.message, handle } },
      { status: err.status, headers: { [REQUEST_ID_HEADER]: requestId, "Cache-Control": "no-store" } },
    );
  }
}
