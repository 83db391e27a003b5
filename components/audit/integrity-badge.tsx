import { ShieldAlert, ShieldCheck, ShieldQuestion } from "lucide-react";
import { getAuditIntegrity } from "@/lib/audit/get-audit-integrity";
import type { TActor } from "@/lib/auth/actor";
import { formatRelative, formatTimestamp } from "@/lib/format";
import { log } from "@/lib/log";

/**
 * The audit trail's integrity at a glance: the last full verification, the last signed
 * checkpoint, and how many events wait to be sealed. A failure names the first bad position.
 */
export async function AuditIntegrityBadge({ actor }: { actor: TActor }) {
  let integrity: Awaited<ReturnType<typeof getAuditIntegrity>>;
  try {
    integrity = await getAuditIntegrity({ actor });
  } catch (err) {
    // The list stays usable when the status cannot be read; the failure is logged, not shown.
    log.error({ requestId: actor.request.requestId, err: err instanceof Error ? { name: err.name, message: err.message } : String(err) }, "audit integrity status failed");
    return (
      <Shell tone="neutral" icon={<ShieldQuestion aria-hidden className="size-4" />} title="Integrity status unavailable">
        Try again in a moment; request id {actor.request.requestId}.
      </Shell>
    );
  }
  const { lastVerification: run, lastCheckpoint: checkpoint } = integrity;
  const sealing = integrity.unsealed > 0 ? `${integrity.unsealed} event${integrity.unsealed === 1 ? "" : "s"} awaiting sealing.` : "Every event is sealed.";
  const checkpointText = checkpoint
    ? `Last signed checkpoint at position ${checkpoint.position}, ${formatTimestamp(checkpoint.createdAt)} (key ${checkpoint.keyId}).`
    : "No signed checkpoint yet.";

  if (run && !run.ok) {
    return (
      <Shell tone="danger" icon={<ShieldAlert aria-hidden className="size-4" />} title="Integrity check failed">
        {run.failure ? `First bad event at position ${run.failure.position}: ${run.failure.reason}${run.failure.detail ? ` (${run.failure.detail})` : ""}. ` : ""}
        Checked {formatRelative(run.finishedAt)}. {checkpointText}
      </Shell>
    );
  }
  if (run) {
    return (
      <Shell tone="success" icon={<ShieldCheck aria-hidden className="size-4" />} title="Chain verified">
        {run.events.toLocaleString("en")} event{run.events === 1 ? "" : "s"} checked {formatRelative(run.finishedAt)}. {checkpointText} {sealing}
      </Shell>
    );
  }
  return (
    <Shell tone="neutral" icon={<ShieldQuestion aria-hidden className="size-4" />} title="Not verified yet">
      {integrity.sealedThrough ? `Sealed through position ${integrity.sealedThrough}. ` : ""}
      {checkpointText} {sealing}
    </Shell>
  );
}

const TONES = {
  success: "border-success/40 bg-success-surface text-success",
  danger: "border-danger/40 bg-danger-surface text-danger",
  neutral: "border-border bg-surface-muted text-fg-muted",
} as const;

function Shell({ tone, icon, title, children }: { tone: keyof typeof TONES; icon: React.ReactNode; title: string; children: React.ReactNode }) {
  return (
    <section aria-label="Audit integrity" data-testid="audit-integrity" className={`flex max-w-xl items-start gap-2 rounded-card border px-3 py-2 text-sm ${TONES[tone]}`}>
      <span className="mt-0.5">{icon}</span>
      <span>
        <span className="font-semibold">{title}</span>
        <span className="block text-xs text-fg">{children}</span>
      </span>
    </section>
  );
}
