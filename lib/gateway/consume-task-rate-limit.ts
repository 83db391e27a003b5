import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { getPool, getPrisma } from "@/lib/db/client";
import { getEnv } from "@/lib/env";
import { describeErrorForLog, log } from "@/lib/log";
import { metrics } from "@/lib/metrics/registry";

// Per-principal budget of `tasks/*` calls per minute, shared by every gateway instance through
// the same Postgres fixed-window counter the console's limits use (table rate_limit), without a
// write on every call: each instance counts in memory and adds its count to the shared window
// every FLUSH_MS, reading back the total. One instance is exact; with several, each sees the
// others' calls at most FLUSH_MS late.

const WINDOW_SECONDS = 60;
const FLUSH_MS = 100;

type TWindow = { key: string; shared: number; pending: number; resetAt: number; refusalAudited: boolean };
type TLimiter = { windows: Map<string, TWindow>; timer: NodeJS.Timeout | null; flushing: Promise<void> | null };

const KEY = Symbol.for("tether.taskRateLimiter");

function limiter(): TLimiter {
  const holder = globalThis as unknown as Record<symbol, TLimiter | undefined>;
  return (holder[KEY] ??= { windows: new Map(), timer: null, flushing: null });
}

/** Adds this instance's counts to the shared windows and reads back their totals (one flush at a time). */
export function flushTaskRateLimits(): Promise<void> {
  const state = limiter();
  state.flushing = (state.flushing ?? Promise.resolve()).then(() => flushOnce(state));
  return state.flushing;
}

async function flushOnce(state: TLimiter): Promise<void> {
  const due = [...state.windows.values()].filter((w) => w.pending > 0);
  if (due.length === 0) return;
  const counts = due.map((w) => w.pending);
  for (const w of due) w.pending = 0;
  try {
    const { rows } = await getPool().query<{ key: string; count: number; reset_at: Date }>(
      `INSERT INTO rate_limit (key, count, reset_at)
       SELECT k, n, now() + make_interval(secs => $3) FROM unnest($1::text[], $2::int[]) AS t(k, n)
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN rate_limit.reset_at <= now() THEN EXCLUDED.count ELSE rate_limit.count + EXCLUDED.count END,
         reset_at = CASE WHEN rate_limit.reset_at <= now() THEN EXCLUDED.reset_at ELSE rate_limit.reset_at END
       RETURNING key, count, reset_at`,
      [due.map((w) => w.key), counts, WINDOW_SECONDS],
    );
    for (const row of rows) {
      const w = state.windows.get(row.key);
      if (!w) continue;
      const resetAt = row.reset_at.getTime();
      // The shared window started over after the one this instance knew: a new window.
      if (resetAt > w.resetAt + 1_000) w.refusalAudited = false;
      w.shared = Number(row.count);
      w.resetAt = resetAt;
    }
  } catch (err) {
    // Counted again next time rather than lost: a database hiccup must not lift the limit.
    due.forEach((w, i) => (w.pending += counts[i]!));
    log.warn({ err: describeErrorForLog(err) }, "Gateway rate limit: could not share this instance's counts; retrying");
  }
}

function scheduleFlush(state: TLimiter): void {
  if (state.timer) return;
  state.timer = setTimeout(() => {
    state.timer = null;
    void flushTaskRateLimits().finally(() => {
      if ([...state.windows.values()].some((w) => w.pending > 0)) scheduleFlush(state);
    });
  }, FLUSH_MS);
  state.timer.unref();
}

/**
 * Counts one `tasks/*` call against the principal's per-minute budget. Returns the seconds to
 * wait when over it; the first refusal in a window is audited, the rest only counted.
 */
export async function consumeTaskRateLimit(input: { actor: TActor; serverId: string; operation: string }): Promise<number | null> {
  const limit = getEnv().TETHER_GATEWAY_TASKS_PER_MINUTE;
  const state = limiter();
  const key = `gw-tasks:${input.actor.id}`;
  const now = Date.now();
  let w = state.windows.get(key);
  if (!w || (w.resetAt <= now && w.pending === 0)) {
    // A new window here: start from the shared count (another instance may have used some).
    w = { key, shared: 0, pending: 0, resetAt: now + WINDOW_SECONDS * 1000, refusalAudited: false };
    state.windows.set(key, w);
    w.pending++;
    await flushTaskRateLimits();
  } else {
    if (w.resetAt <= now) {
      w.shared = 0;
      w.resetAt = now + WINDOW_SECONDS * 1000;
      w.refusalAudited = false;
    }
    w.pending++;
    scheduleFlush(state);
  }
  if (state.windows.size > 10_000) for (const [k, old] of state.windows) if (old.resetAt <= now && old.pending === 0) state.windows.delete(k);
  if (w.shared + w.pending <= limit) return null;

  metrics().handleDenials.inc({ cause: "rate_limited" });
  if (!w.refusalAudited) {
    w.refusalAudited = true;
    await getPrisma().$transaction((tx) =>
      recordAuditEvent(tx, {
        actor: input.actor,
        action: "gateway.rate_limited",
        outcome: "denied",
        target: { type: "principal", id: input.actor.id },
        payload: { serverId: input.serverId, operation: input.operation, limitPerMinute: limit },
      }),
    );
  }
  return Math.max(1, Math.ceil((w.resetAt - now) / 1000));
}
