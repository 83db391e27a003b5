import type { TBulkActionDto } from "@/lib/bulk/schemas";

/** Handles processed of the total, as a bar and in numbers (done, skipped, failed). */
export function BulkProgress({ kind, progress }: { kind: TBulkActionDto["kind"]; progress: TBulkActionDto["progress"] }) {
  const { total, processed, done, skipped, failed } = progress;
  const percent = total === 0 ? 100 : Math.floor((processed / total) * 100);
  const doneLabel = kind === "revoke" ? "revoked" : "cancelled";
  return (
    <div className="space-y-2" data-testid="bulk-progress">
      <div className="flex flex-wrap items-baseline justify-between gap-2 text-sm">
        <span>
          <span className="text-lg font-semibold tabular-nums" data-testid="bulk-processed">
            {processed.toLocaleString("en")}
          </span>{" "}
          of <span className="tabular-nums">{total.toLocaleString("en")}</span> handles processed
        </span>
        <span className="tabular-nums text-fg-muted">{percent} %</span>
      </div>
      <div
        role="progressbar"
        aria-label="Progress"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={processed}
        className="h-2.5 w-full overflow-hidden rounded-full bg-surface-muted"
      >
        <div className="flex h-full">
          <div className="bg-success transition-all" style={{ width: `${total ? (done / total) * 100 : 0}%` }} />
          <div className="bg-fg-muted/40 transition-all" style={{ width: `${total ? (skipped / total) * 100 : 0}%` }} />
          <div className="bg-danger transition-all" style={{ width: `${total ? (failed / total) * 100 : 0}%` }} />
        </div>
      </div>
      <p className="text-xs text-fg-muted">
        <span className="tabular-nums">{done.toLocaleString("en")}</span> {doneLabel} · <span className="tabular-nums">{skipped.toLocaleString("en")}</span> skipped
        (already revoked, expired or ended) · <span className="tabular-nums">{failed.toLocaleString("en")}</span> failed
        {progress.failures > 0 ? ` · the last ${progress.failures} attempt${progress.failures === 1 ? "" : "s"} failed; retrying` : ""}
      </p>
    </div>
  );
}
