import "server-only";
import { describeErrorForLog, log } from "@/lib/log";
import { syncHandleStatuses } from "./sync-handle-statuses";

const IDLE_MS = 500;

/** The status-sync worker of one process: rounds back to back while there is work, else every IDLE_MS. */
export function startStatusSyncWorker(): () => Promise<void> {
  let stopped = false;
  let failures = 0;
  const loop = (async () => {
    while (!stopped) {
      let claimed = 0;
      try {
        claimed = (await syncHandleStatuses()).claimed;
        failures = 0;
      } catch (err) {
        failures++;
        log.error({ err: describeErrorForLog(err), failures }, "status sync round failed");
      }
      if (claimed > 0 && !stopped) continue;
      await new Promise((r) => setTimeout(r, failures ? Math.min(30_000, IDLE_MS * 2 ** failures) : IDLE_MS).unref());
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}
