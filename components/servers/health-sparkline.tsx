import type { THealthCheckPoint } from "@/lib/servers/schemas";
import { SLOW_CHECK_MS } from "@/lib/servers/health-status";

const WIDTH = 120;
const HEIGHT = 24;
const BAR_GAP = 1;
// Latency above this fills the bar; a failed check is always a full red bar.
const CEILING_MS = 2 * SLOW_CHECK_MS;

/** Bar height for an answered check: at least 40 %, growing with latency (square root, so fast answers still differ). */
function answeredHeight(latencyMs: number | null): number {
  const share = Math.sqrt(Math.min(latencyMs ?? 0, CEILING_MS) / CEILING_MS);
  return Math.round((0.4 + 0.6 * share) * (HEIGHT - 2));
}

/**
 * The recent health checks as bars, oldest on the left, newest on the right: colour is the
 * outcome (green answered, amber slow, red failed), height the handshake latency; slots without
 * a check yet are faint. Server-rendered SVG with a text summary for assistive technology.
 */
export function HealthSparkline({ checks, slots = 30 }: { checks: THealthCheckPoint[]; slots?: number }) {
  const barWidth = (WIDTH - BAR_GAP * (slots - 1)) / slots;
  const shown = checks.slice(-slots);
  const offset = slots - shown.length;
  const failed = shown.filter((c) => !c.ok).length;
  const latencies = shown.flatMap((c) => (c.ok && c.latencyMs !== null ? [c.latencyMs] : []));
  const median = latencies.length ? latencies.toSorted((a, b) => a - b)[Math.floor(latencies.length / 2)] : null;
  const summary = shown.length
    ? `Last ${shown.length} checks: ${shown.length - failed} answered${median !== null ? ` (median ${median} ms)` : ""}, ${failed} failed.`
    : "No checks yet.";
  return (
    <svg width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary} className="block" data-testid="health-sparkline">
      <title>{summary}</title>
      {Array.from({ length: offset }, (_, i) => (
        <rect key={`empty-${i}`} x={i * (barWidth + BAR_GAP)} y={HEIGHT - 3} width={barWidth} height={3} rx={0.5} className="fill-border" />
      ))}
      {shown.map((c, i) => {
        const x = (offset + i) * (barWidth + BAR_GAP);
        const h = c.ok ? answeredHeight(c.latencyMs) : HEIGHT;
        const tone = !c.ok ? "fill-danger" : (c.latencyMs ?? 0) > SLOW_CHECK_MS ? "fill-warning" : "fill-success";
        return <rect key={`${c.at.toISOString()}-${i}`} x={x} y={HEIGHT - h} width={barWidth} height={h} rx={0.5} className={tone} />;
      })}
    </svg>
  );
}
