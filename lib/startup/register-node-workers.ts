import { startAuditWorkers } from "@/lib/audit/start-audit-workers";
import { getEnv } from "@/lib/env";

/** Starts this server process's background workers unless TETHER_WORKERS=false. */
export function registerNodeWorkers(): void {
  if (!getEnv().TETHER_WORKERS) return;
  const stop = startAuditWorkers();
  const shutdown = () => void stop();
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}
