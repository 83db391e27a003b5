import { clsx } from "clsx";

const HOUR_MS = 3_600_000;

/**
 * How much of a handle's lifetime is left, as a thin bar under its expiry. Under an hour left it
 * turns to the warning colour ("expiring soon"); a revoked or expired handle shows no bar.
 */
export function InventoryTtlBar({ createdAt, expiresAt, now, live }: { createdAt: string; expiresAt: string; now: number; live: boolean }) {
  if (!live) return null;
  const start = Date.parse(createdAt);
  const end = Date.parse(expiresAt);
  const left = Math.max(0, end - now);
  const share = end > start ? Math.min(1, left / (end - start)) : 0;
  const soon = left < HOUR_MS;
  return (
    <span
      role="meter"
      aria-label="Lifetime left"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(share * 100)}
      aria-valuetext={`${Math.round(share * 100)} % of its lifetime left`}
      className="mt-1 block h-1 w-24 overflow-hidden rounded-full bg-surface-muted"
    >
      <span className={clsx("block h-full rounded-full", soon ? "bg-warning" : "bg-success")} style={{ width: `${Math.max(2, share * 100)}%` }} />
    </span>
  );
}

export function isExpiringSoon(expiresAt: string, now: number, live: boolean): boolean {
  const left = Date.parse(expiresAt) - now;
  return live && left > 0 && left < HOUR_MS;
}
