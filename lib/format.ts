const RTF = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1_000],
];

/** "in 5 minutes", "3 hours ago": relative to `now`, rounded to the largest whole unit. */
export function formatRelative(date: Date, now = new Date()): string {
  const diff = date.getTime() - now.getTime();
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms || unit === "second") return RTF.format(Math.round(diff / ms), unit);
  }
  return RTF.format(0, "second");
}

/** ISO-like UTC timestamp for tables: unambiguous across reviewers' time zones. */
export function formatTimestamp(date: Date | null | undefined): string {
  return date ? `${date.toISOString().slice(0, 19).replace("T", " ")} UTC` : "—";
}
