// The health rule, pure: up, degraded (slow, or failing for fewer than DOWN_AFTER checks in a
// row), down (DOWN_AFTER or more consecutive failures).
import type { TProbeResult, TServerHealth } from "./schemas";

/** A successful check slower than this makes the server degraded. */
export const SLOW_CHECK_MS = 1000;
/** This many failed checks in a row make the server down. */
export const DOWN_AFTER_FAILURES = 3;

export function healthAfterCheck(input: { ok: boolean; latencyMs: number | null; failuresBefore: number }): { status: TServerHealth; consecutiveFailures: number } {
  if (input.ok) return { status: (input.latencyMs ?? 0) > SLOW_CHECK_MS ? "degraded" : "up", consecutiveFailures: 0 };
  const consecutiveFailures = input.failuresBefore + 1;
  return { status: consecutiveFailures >= DOWN_AFTER_FAILURES ? "down" : "degraded", consecutiveFailures };
}

/** For health, a server is reachable when the MCP handshake worked, task support or not. */
export function isReachable(result: TProbeResult): boolean {
  return result.problem === null || result.problem.kind === "no_task_support";
}
