// Next.js calls register() once per server process: the place to start this process's share
// of Tether's background work.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { getEnv } = await import("@/lib/env");
  if (!getEnv().TETHER_WORKERS) return;
  const { startAuditWorkers } = await import("@/lib/audit/start-audit-workers");
  const stop = startAuditWorkers();
  const shutdown = () => void stop();
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}
