// `npm run audit:verify` — recompute the whole audit chain in DATABASE_URL. Exit 0 when intact;
// exit 1 naming the chain position, event sequence number and reason of the first bad event.
import { systemActor } from "@/lib/auth/actor";
import { runAuditVerification } from "@/lib/audit/run-audit-verification";
import { getPool } from "@/lib/db/client";
import { describeConnectionError, isConnectionError } from "@/lib/db/describe-connection-error";
import { getEnv } from "@/lib/env";

async function main(): Promise<number> {
  const env = getEnv();
  if (!env.DATABASE_URL) {
    console.error("DATABASE_URL is not set. Point it at Tether's database (for the embedded one, use the URL `npm start` prints with LOG_LEVEL=debug, or the API: GET /api/v1/audit/verify).");
    return 1;
  }
  const started = performance.now();
  try {
    const r = await runAuditVerification({ actor: systemActor("cli:audit-verify", `cli-${process.pid}`), trigger: "cli" });
    const seconds = (performance.now() - started) / 1000;
    if (r.ok) {
      console.log(`Audit chain intact: ${r.events} events (positions 1…${r.lastPosition ?? 0}), ${r.checkpoints} signed checkpoints verified in ${seconds.toFixed(1)} s.`);
      if (r.lastCheckpoint) console.log(`Last checkpoint: position ${r.lastCheckpoint.position}, hash ${r.lastCheckpoint.hash}.`);
      if (r.pendingEvents) console.log(`${r.pendingEvents} event(s) committed moments ago are not sealed yet.`);
      return 0;
    }
    const f = r.failure!;
    const { rows } = await getPool().query<{ seq: string }>("SELECT event_seq::text AS seq FROM audit_chain WHERE position = $1::bigint", [f.position]);
    console.error(`Audit chain BROKEN at position ${f.position}${rows[0] ? ` (event seq ${rows[0].seq})` : ""}: ${f.reason} — ${f.detail}`);
    return 1;
  } catch (err) {
    if (isConnectionError(err)) console.error(describeConnectionError(err, env.DATABASE_URL));
    else console.error(err instanceof Error ? err.message.split("\n")[0] : String(err));
    return 1;
  } finally {
    await getPool().end().catch(() => undefined);
  }
}

process.exitCode = await main();
