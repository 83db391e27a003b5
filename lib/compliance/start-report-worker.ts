import "server-only";
import { describeErrorForLog, log } from "@/lib/log";
import { runReportJob } from "./generate-report";

const IDLE_MS = 2_000;

// A report requested in this process wakes the local worker at once; other processes' requests
// are picked up by polling (the claim is a SKIP LOCKED lease, so any number of workers share it).
const globalForWorker = globalThis as typeof globalThis & { tetherReportWake?: Set<() => void> };
const wakers = (globalForWorker.tetherReportWake ??= new Set());

export function nudgeReportWorker(): void {
  for (const wake of wakers) wake();
}

/** The compliance-report worker of one process. Returns a stop function. */
export function startReportWorker(): () => Promise<void> {
  let stopped = false;
  let wake: (() => void) | undefined;
  const waker = () => wake?.();
  wakers.add(waker);
  const loop = (async () => {
    while (!stopped) {
      let worked = false;
      try {
        worked = (await runReportJob()) !== null;
      } catch (err) {
        log.error({ err: describeErrorForLog(err) }, "compliance report worker failed");
      }
      if (worked || stopped) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, IDLE_MS);
        timer.unref();
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  })();
  return async () => {
    stopped = true;
    wake?.();
    wakers.delete(waker);
    await loop;
  };
}
