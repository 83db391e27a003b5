import { startAuditWorkers } from "@/lib/audit/start-audit-workers";
import { getEnv } from "@/lib/env";
import { startHandleWorkers } from "@/lib/handles/start-handle-workers";
import { startServerHealthWorker } from "@/lib/servers/start-server-health-worker";

/** Starts this server process's background workers unless TETHER_WORKERS=false. */
export function registerNodeWorkers(): void {
  if (!getEnv().TETHER_WORKERS) return;
  const stops = [startAuditWorkers(), startHandleWorkers(), startServerHealthWorker()];
  const shutdown = () => void Promise.all(stops.map((stop) => stop()));
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}
