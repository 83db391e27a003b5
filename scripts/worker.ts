// npm run worker — Tether's background workers without the console: the audit sealer and
// verifier, the handle expiry sweeper and status sync, and server health checks. Run as many as
// you like next to the consoles (with TETHER_WORKERS=false there, or not): the work is shared
// through Postgres leases, so nothing is done twice. Needs DATABASE_URL (a real Postgres; the
// embedded database of `npm start` serves one process only) and the same secrets as the console.
import { startAuditWorkers } from "@/lib/audit/start-audit-workers";
import { getEnv } from "@/lib/env";
import { startHandleWorkers } from "@/lib/handles/start-handle-workers";
import { describeErrorForLog, log } from "@/lib/log";
import { startServerHealthWorker } from "@/lib/servers/start-server-health-worker";

function main(): void {
  let env;
  try {
    env = getEnv();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  if (!env.DATABASE_URL) {
    console.error("npm run worker needs DATABASE_URL (a real Postgres). `npm start` already runs the workers in embedded mode.");
    process.exit(1);
  }
  for (const name of ["TETHER_HMAC_KEY", "TETHER_ENCRYPTION_KEY", "TETHER_AUDIT_SIGNING_KEY"] as const) {
    if (!env[name]) {
      console.error(`npm run worker needs ${name} (the same value the console uses).`);
      process.exit(1);
    }
  }
  const stops = [startAuditWorkers(), startHandleWorkers(), startServerHealthWorker()];
  log.info({ pid: process.pid }, "Tether workers running (Ctrl-C stops them)");
  const stop = () => {
    log.info("Stopping workers…");
    Promise.all(stops.map((s) => s()))
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err: describeErrorForLog(err) }, "Workers did not stop cleanly");
        process.exit(1);
      });
    setTimeout(() => process.exit(0), 20_000).unref();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main();
