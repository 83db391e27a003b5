import { clsx } from "clsx";

const TONES = {
  danger: "border-danger/40 bg-danger-surface text-danger",
  warning: "border-warning/40 bg-warning-surface text-warning",
  success: "border-success/40 bg-success-surface text-success",
  info: "border-border bg-surface-muted text-fg",
} as const;

export function Alert({ tone = "info", children, className }: { tone?: keyof typeof TONES; children: React.ReactNode; className?: string }) {
  return (
    <div role={tone === "danger" ? "alert" : "status"} className={clsx("rounded-control border px-3 py-2 text-sm", TONES[tone], className)}>
      {children}
    </div>
  );
}
