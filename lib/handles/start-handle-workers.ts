import "server-only";
import { startBulkActionWorker } from "@/lib/bulk/run-bulk-actions";
import { startReportWorker } from "@/lib/compliance/start-report-worker";
import { describeErrorForLog, log } from "@/lib/log";
import { startCancelRetryWorker } from "./retry-cancels";
import { startStatusSyncWorker } from "./start-status-sync-worker";
import { sweepExpiredHandles } from "./sweep-expired-handles";

const SWEEP_INTERVAL_MS = 15_000;

/** The handle background work of one process: the expiry sweeper, the status-sync worker, the cancel-retry worker and the bulk revoke / cancel worker. Returns a stop function. */
export function startHandleWorkers(): () => Promise<void> {
  let stopped = false;
  const stopSync = startStatusSyncWorker();
  const stopCancelRetries = startCancelRetryWorker();
  // Compliance reports are generated here too, so `npm run worker` processes run them as well.
  const stopReports = startReportWorker();
  const stopBulk = startBulkActionWorker();
  const loop = (async () => {
    while (!stopped) {
      let marked = 0;
      try {
        marked = await sweepExpiredHandles();
      } catch (err) {
        log.error({ err: describeErrorForLog(err) }, "expiry sweeper failed");
      }
      if (marked > 0 && !stopped) continue; // a backlog: keep going
      await new Promise((r) => setTimeout(r, SWEEP_INTERVAL_MS).unref());
    }
  })();
  return async () => {
    stopped = true;
    await Promise.all([loop, stopSync(), stopCancelRetries(), stopBulk(), stopReports()]);
  };
}
