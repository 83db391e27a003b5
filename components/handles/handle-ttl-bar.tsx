import { clsx } from "clsx";
import { formatRelative, formatTimestamp } from "@/lib/format";

const SOON_MS = 5 * 60_000;

/**
 * How much of the handle's lifetime is used: created → expires, with the time left. The last
 * 10 % (or 5 minutes) of a live handle is highlighted as expiring soon.
 */
export function HandleTtlBar({ createdAt, expiresAt, now, ended }: { createdAt: Date; expiresAt: Date; now: Date; ended: boolean }) {
  const total = Math.max(1, expiresAt.getTime() - createdAt.getTime());
  const left = expiresAt.getTime() - now.getTime();
  const used = Math.min(100, Math.max(0, Math.round(((total - Math.max(0, left)) / total) * 100)));
  const expired = left <= 0;
  const soon = !expired && !ended && (left <= SOON_MS || left <= total * 0.1);
  return (
    <div className="space-y-1">
      <div
        role="meter"
        aria-label="Lifetime used"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={used}
        aria-valuetext={expired ? "expired" : `${used} % used, expires ${formatRelative(expiresAt, now)}`}
        className="h-2 w-full overflow-hidden rounded-full bg-surface-muted"
      >
        <div className={clsx("h-full rounded-full", expired || ended ? "bg-fg-muted" : soon ? "bg-warning" : "bg-accent")} style={{ width: `${used}%` }} />
      </div>
      <p className={clsx("text-xs", soon ? "font-medium text-warning" : "text-fg-muted")}>
        {expired ? `Expired ${formatRelative(expiresAt, now)}` : `Expires ${formatRelative(expiresAt, now)}${soon ? " — expiring soon" : ""}`} · {formatTimestamp(expiresAt)}
      </p>
    </div>
  );
}
