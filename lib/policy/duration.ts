// Durations in the terms people set them in. Policy TTLs are stored in milliseconds; the console
// shows and takes them in seconds, minutes, hours or days. Pure: used by pages and forms alike.

export const DURATION_UNITS = [
  { unit: "seconds", ms: 1_000, short: "s", singular: "second" },
  { unit: "minutes", ms: 60_000, short: "min", singular: "minute" },
  { unit: "hours", ms: 3_600_000, short: "h", singular: "hour" },
  { unit: "days", ms: 86_400_000, short: "d", singular: "day" },
] as const;

export type TDurationUnit = (typeof DURATION_UNITS)[number]["unit"];

export function unitMs(unit: TDurationUnit): number {
  return DURATION_UNITS.find((u) => u.unit === unit)!.ms;
}

/** The largest unit that expresses `ms` exactly, for prefilling a value + unit input. */
export function splitDuration(ms: number): { value: number; unit: TDurationUnit } {
  for (const u of [...DURATION_UNITS].reverse()) {
    if (ms >= u.ms && ms % u.ms === 0) return { value: ms / u.ms, unit: u.unit };
  }
  return { value: ms / 1_000, unit: "seconds" };
}

/** "1 hour", "90 minutes", "7 days", "1 s 500 ms": exact, in the largest unit that fits, never rounded. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  const whole = splitDuration(ms);
  if (Number.isInteger(whole.value) && whole.value >= 1) {
    const unit = DURATION_UNITS.find((u) => u.unit === whole.unit)!;
    return whole.value === 1 ? `1 ${unit.singular}` : `${whole.value} ${unit.unit}`;
  }
  // Below a second, or not a whole number of seconds: every non-zero part.
  const parts: string[] = [];
  let rest = ms;
  for (const u of [...DURATION_UNITS].reverse()) {
    const n = Math.floor(rest / u.ms);
    if (n > 0) {
      parts.push(`${n} ${u.short}`);
      rest -= n * u.ms;
    }
  }
  if (rest > 0) parts.push(`${rest} ms`);
  return parts.join(" ");
}
