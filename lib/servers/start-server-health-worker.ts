import "server-only";
import { getEnv } from "@/lib/env";
import { describeErrorForLog, log } from "@/lib/log";
import { HEALTH_BATCH, runHealthChecks } from "./run-health-checks";

/**
 * The health worker of one process: every few seconds it claims the servers whose check is due
 * (each server every TETHER_SERVER_HEALTH_INTERVAL_SECONDS) and checks them. Several processes
 * share the work through the claim (see runHealthChecks). Returns a stop function.
 */
export function startServerHealthWorker(): () => Promise<void> {
  const tickMs = Math.min(5_000, getEnv().TETHER_SERVER_HEALTH_INTERVAL_SECONDS * 1000);
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      let checked = 0;
      try {
        checked = await runHealthChecks();
      } catch (err) {
        log.error({ err: describeErrorForLog(err) }, "server health worker failed");
      }
      if (checked >= HEALTH_BATCH && !stopped) continue; // more are due: keep going
      await new Promise((r) => setTimeout(r, tickMs).unref());
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}
