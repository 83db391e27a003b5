import { clsx } from "clsx";

export function Table({ children, label }: { children: React.ReactNode; label: string }) {
  return (
    <div className="overflow-x-auto rounded-card border border-border bg-surface">
      <table className="w-full border-collapse text-left text-sm [&_tbody_tr:last-child_td]:border-b-0" aria-label={label}>
        {children}
      </table>
    </div>
  );
}

export function Th({ children, className }: { children?: React.ReactNode; className?: string }) {
  return <th scope="col" className={clsx("border-b border-border bg-surface-muted px-3 py-2 text-xs font-semibold uppercase tracking-wide text-fg-muted", className)}>{children}</th>;
}

export function Td({ children, className, title }: { children?: React.ReactNode; className?: string; title?: string }) {
  return <td title={title} className={clsx("border-b border-border px-3 py-2 align-top", className)}>{children}</td>;
}

const BADGE_TONES = {
  neutral: "bg-surface-muted text-fg-muted",
  success: "bg-success-surface text-success",
  warning: "bg-warning-surface text-warning",
  danger: "bg-danger-surface text-danger",
  accent: "bg-surface-muted text-accent",
} as const;

export function Badge({ tone = "neutral", children }: { tone?: keyof typeof BADGE_TONES; children: React.ReactNode }) {
  return <span className={clsx("inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium", BADGE_TONES[tone])}>{children}</span>;
}
