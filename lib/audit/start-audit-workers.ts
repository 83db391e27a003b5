import "server-only";
import { systemActor } from "@/lib/auth/actor";
import { getPool } from "@/lib/db/client";
import { getEnv } from "@/lib/env";
import { describeErrorForLog, log } from "@/lib/log";
import { runAuditVerification } from "./run-audit-verification";
import { sealAuditChain } from "./seal-audit-chain";
import { getAuditSigningKey } from "./signing-key";

/**
 * The audit background work of one process: the sealer loop (every process runs it; an
 * advisory lock lets one seal at a time, so N instances need no coordinator) and the periodic
 * full verification. Returns a stop function.
 */
export function startAuditWorkers(): () => Promise<void> {
  const env = getEnv();
  const pool = getPool();
  let stopped = false;
  let failures = 0;
  const signingKey = getAuditSigningKey();

  const sealLoop = (async () => {
    while (!stopped) {
      let sealed = 0;
      try {
        const result = await sealAuditChain(pool, {
          signingKey,
          checkpointEvery: env.TETHER_AUDIT_CHECKPOINT_EVERY,
          checkpointSeconds: env.TETHER_AUDIT_CHECKPOINT_SECONDS,
        });
        sealed = result.sealed;
        failures = 0;
      } catch (err) {
        failures++;
        // Backs off while the database is away; every failure is logged, none is fatal.
        log.error({ err: describeErrorForLog(err), failures }, "audit sealer failed");
      }
      if (sealed >= 5000) continue; // a backlog: keep going without sleeping
      const wait = failures ? Math.min(30_000, env.TETHER_AUDIT_SEAL_INTERVAL_MS * 2 ** Math.min(failures, 8)) : env.TETHER_AUDIT_SEAL_INTERVAL_MS;
      await new Promise((r) => setTimeout(r, wait).unref());
    }
  })();

  let verifyTimer: NodeJS.Timeout | undefined;
  if (env.TETHER_AUDIT_VERIFY_MINUTES > 0) {
    const verify = async () => {
      try {
        const result = await runAuditVerification({ actor: systemActor("audit-verifier", `verify-${Date.now()}`), trigger: "schedule" });
        if (!result.ok) log.error({ failure: result.failure }, "audit chain verification FAILED");
      } catch (err) {
        log.error({ err: describeErrorForLog(err) }, "audit verification could not run");
      }
    };
    verifyTimer = setInterval(verify, env.TETHER_AUDIT_VERIFY_MINUTES * 60_000);
    verifyTimer.unref();
    setTimeout(verify, 5_000).unref();
  }

  return async () => {
    stopped = true;
    if (verifyTimer) clearInterval(verifyTimer);
    await sealLoop;
  };
}
