import "server-only";
import { getPool } from "@/lib/db/client";
import { describeErrorForLog, log } from "@/lib/log";

// Plain polls are the gateway's most frequent call. Their only write, "last used / use count",
// is bookkeeping for humans, so it is counted in memory and written for all handles at once,
// every FLUSH_MS, instead of costing every poll its own commit. A crash loses at most that much
// of the counting; nothing that decides access is buffered (revocation, expiry and status are
// read from and written to the database on every call).

const FLUSH_MS = 500;
const pending = new Map<string, { uses: number; lastUsedAt: Date }>();
let timer: NodeJS.Timeout | null = null;
let flushing: Promise<void> = Promise.resolve();

export function bufferHandleUse(handleId: string): void {
  const entry = pending.get(handleId);
  if (entry) {
    entry.uses++;
    entry.lastUsedAt = new Date();
  } else {
    pending.set(handleId, { uses: 1, lastUsedAt: new Date() });
  }
  if (!timer) {
    timer = setTimeout(() => void flushHandleUses(), FLUSH_MS);
    timer.unref();
  }
}

/** Writes the buffered uses now (also what tests call before reading use counts). */
export async function flushHandleUses(): Promise<void> {
  if (timer) clearTimeout(timer);
  timer = null;
  const batch = [...pending.entries()];
  pending.clear();
  const run = flushing.then(async () => {
    if (batch.length === 0) return;
    try {
      await getPool().query(
        `UPDATE handle SET use_count = use_count + v.uses, last_used_at = GREATEST(last_used_at, v.at)
           FROM unnest($1::uuid[], $2::int[], $3::timestamptz[]) AS v(id, uses, at)
          WHERE handle.id = v.id`,
        [batch.map(([id]) => id), batch.map(([, e]) => e.uses), batch.map(([, e]) => e.lastUsedAt)],
      );
    } catch (err) {
      log.warn({ err: describeErrorForLog(err), handles: batch.length }, "Could not record handle uses");
    }
  });
  flushing = run;
  await run;
}
