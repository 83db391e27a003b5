import "server-only";
import type { PrismaClient } from "@/lib/db/generated/client";
import type { TTx } from "@/lib/db/types";

export type TRateLimitState = { count: number; resetAt: Date; retryAfterSeconds: number };

// Fixed-window counters in Postgres, so every console instance sees the same counts.

/** Adds one to `key` and returns the window's count. */
export async function incrementRateLimit(
  db: PrismaClient | TTx,
  key: string,
  windowSeconds: number,
): Promise<TRateLimitState> {
  const rows = await db.$queryRaw<Array<{ count: number; reset_at: Date }>>`
    INSERT INTO rate_limit (key, count, reset_at)
    VALUES (${key}, 1, now() + make_interval(secs => ${windowSeconds}))
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limit.reset_at <= now() THEN 1 ELSE rate_limit.count + 1 END,
      reset_at = CASE WHEN rate_limit.reset_at <= now() THEN now() + make_interval(secs => ${windowSeconds}) ELSE rate_limit.reset_at END
    RETURNING count, reset_at`;
  return toState(rows[0]!);
}

/** Reads the window's count without adding to it (0 when the window has passed). */
export async function peekRateLimit(db: PrismaClient | TTx, key: string): Promise<TRateLimitState> {
  const row = await db.rateLimit.findUnique({ where: { key } });
  if (!row || row.resetAt <= new Date()) return { count: 0, resetAt: new Date(), retryAfterSeconds: 0 };
  return toState({ count: row.count, reset_at: row.resetAt });
}

/** Gives one slot back (a successful attempt should not count against a shared address). */
export async function releaseRateLimit(db: PrismaClient | TTx, key: string): Promise<void> {
  await db.$executeRaw`UPDATE rate_limit SET count = GREATEST(count - 1, 0) WHERE key = ${key}`;
}

export async function clearRateLimit(db: PrismaClient | TTx, key: string): Promise<void> {
  await db.rateLimit.deleteMany({ where: { key } });
}

function toState(row: { count: number; reset_at: Date }): TRateLimitState {
  const retry = Math.max(0, Math.ceil((row.reset_at.getTime() - Date.now()) / 1000));
  return { count: Number(row.count), resetAt: row.reset_at, retryAfterSeconds: retry };
}
