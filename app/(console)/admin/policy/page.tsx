import type { Metadata } from "next";
import Link from "next/link";
import { AdminSubNav } from "@/components/admin/admin-sub-nav";
import { PolicyForm } from "@/components/policy/policy-form";
import { ThresholdsForm } from "@/components/policy/thresholds-form";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { Badge, Table, Td, Th } from "@/components/ui/table";
import { actorCan } from "@/lib/auth/assert-can";
import { requirePageActor } from "@/lib/auth/current-actor";
import { formatTimestamp } from "@/lib/format";
import { describeChanges, describeSetting } from "@/lib/policy/describe-policy";
import { getComplianceThresholds, type TComplianceThresholds } from "@/lib/policy/get-compliance-thresholds";
import { listPolicyVersions } from "@/lib/policy/list-policy-versions";
import { POLL_AUDIT_LEVEL_LABELS, formatThreshold, policySettingsOf, type TPolicyVersionDto } from "@/lib/policy/schemas";

export const metadata: Metadata = { title: "Admin · Policy" };

// GET /admin/policy — the handle policy in force, a form to change it with a live preview, the
// compliance thresholds with a form to change them, and every version.
export default async function PolicyPage() {
  const actor = await requirePageActor("policy.manage");
  const [versions, thresholds] = await Promise.all([listPolicyVersions({ actor }), getComplianceThresholds({ actor })]);
  const current = versions[0];

  return (
    <>
      <AdminSubNav current="/admin/policy" role={actor.role} />
      <PageHeader
        title="Handle policy"
        description="How long task handles live, how many an agent may hold, and what the gateway checks on every call. Each change is a new version; tightening it revokes or shortens the live handles it affects, each with its own audit event."
      />
      {current ? (
        <div className="space-y-8">
          <CurrentPolicy policy={current} />
          <PolicyForm policy={{ version: current.version, ...policySettingsOf(current) }} />
          {thresholds ? <ThresholdsForm version={thresholds.version} rows={thresholds.controls} /> : null}
          <VersionHistory versions={versions} thresholdChanges={thresholds?.changesByVersion ?? {}} auditLink={actorCan(actor, "audit.read")} />
        </div>
      ) : (
        <EmptyState title="No policy is installed yet">
          Tether installs its default policy at start. Start it with <code>npm start</code> (or run <code>npm run db:seed</code>), then reload this page.
        </EmptyState>
      )}
    </>
  );
}

function CurrentPolicy({ policy }: { policy: TPolicyVersionDto }) {
  const rows: Array<{ label: string; value: React.ReactNode; note: string }> = [
    { label: "Maximum TTL", value: describeSetting("maxTtlMs", policy.maxTtlMs), note: "No handle lives longer, whatever is requested." },
    { label: "Default TTL", value: describeSetting("defaultTtlMs", policy.defaultTtlMs), note: "When the agent asks for none." },
    {
      label: "Live handles per principal",
      value: describeSetting("maxLiveHandlesPerPrincipal", policy.maxLiveHandlesPerPrincipal),
      note: "Minting beyond this is refused.",
    },
    {
      label: "Session binding",
      value: policy.requireSessionBinding ? "Required" : "Off",
      note: policy.requireSessionBinding ? "A handle works only in the gateway session that created it." : "Any session of the owning principal may use a handle.",
    },
    {
      label: "Allowed operations",
      value: (
        <span className="flex flex-wrap gap-1">
          {policy.allowedOperations.map((op) => (
            <code key={op} className="rounded bg-surface-muted px-1.5 py-0.5 font-mono text-xs">
              {op}
            </code>
          ))}
        </span>
      ),
      note: "Every other task operation is refused.",
    },
    {
      label: "Poll auditing",
      value: POLL_AUDIT_LEVEL_LABELS[policy.pollAuditLevel],
      note: policy.pollAuditLevel === "transitions" ? "Plain polls update last-used and the use count only." : "One audit event per poll.",
    },
    {
      label: "Honoured versions",
      value: policy.minValidVersion === 1 ? "All (v1 and later)" : `v${policy.minValidVersion} and later`,
      note: policy.minValidVersion === 1 ? "No version has been invalidated." : `Handles issued under v1–v${policy.minValidVersion - 1} are refused.`,
    },
  ];
  return (
    <section aria-labelledby="current-policy-title" className="rounded-card border border-border bg-surface">
      <div className="flex flex-wrap items-baseline justify-between gap-2 border-b border-border px-4 py-3">
        <h2 id="current-policy-title" className="font-semibold">
          In force: version {policy.version}
        </h2>
        <p className="text-xs text-fg-muted">
          since {formatTimestamp(policy.createdAt)} · {policy.createdBy ? (policy.createdBy.email ?? policy.createdBy.name) : "Tether"} · “{policy.reason}”
        </p>
      </div>
      <dl className="grid gap-x-6 gap-y-4 px-4 py-4 sm:grid-cols-2 lg:grid-cols-4" data-testid="current-policy">
        {rows.map((row) => (
          <div key={row.label} className="min-w-0">
            <dt className="text-xs font-medium uppercase tracking-wide text-fg-muted">{row.label}</dt>
            <dd className="mt-1 text-sm font-medium">{row.value}</dd>
            <dd className="mt-0.5 text-xs text-fg-muted">{row.note}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function VersionHistory({
  versions,
  thresholdChanges,
  auditLink,
}: {
  versions: TPolicyVersionDto[];
  thresholdChanges: TComplianceThresholds["changesByVersion"];
  auditLink: boolean;
}) {
  return (
    <section aria-labelledby="policy-history-title" className="space-y-3">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="policy-history-title" className="font-semibold">
          Version history
        </h2>
        {auditLink ? (
          <span className="flex flex-wrap gap-4">
            <Link href="/audit?action=policy.changed" className="text-sm font-medium text-accent underline-offset-4 hover:underline">
              Policy changes in the audit trail
            </Link>
            <Link href="/audit?action=policy.thresholds_changed" className="text-sm font-medium text-accent underline-offset-4 hover:underline">
              Threshold changes
            </Link>
          </span>
        ) : null}
      </div>
      <Table label="Policy versions">
        <thead>
          <tr>
            <Th>Version</Th>
            <Th>When (UTC)</Th>
            <Th>By</Th>
            <Th>Reason</Th>
            <Th>What changed</Th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v, i) => (
            <tr key={v.version}>
              <Td className="whitespace-nowrap">
                <span className="font-mono">v{v.version}</span> {i === 0 ? <Badge tone="success">in force</Badge> : null}
              </Td>
              <Td className="whitespace-nowrap text-xs">{formatTimestamp(v.createdAt)}</Td>
              <Td>
                {v.createdBy ? (
                  <>
                    <p>{v.createdBy.name}</p>
                    {v.createdBy.email ? <p className="text-xs text-fg-muted">{v.createdBy.email}</p> : null}
                  </>
                ) : (
                  <span className="text-fg-muted">Tether</span>
                )}
              </Td>
              <Td className="max-w-xs break-words">{v.reason}</Td>
              <Td>
                <Changes version={v} thresholds={thresholdChanges[v.version] ?? []} />
              </Td>
            </tr>
          ))}
        </tbody>
      </Table>
    </section>
  );
}

function Changes({ version, thresholds }: { version: TPolicyVersionDto; thresholds: TComplianceThresholds["changesByVersion"][number] }) {
  if (!version.changes) return <span className="text-fg-muted">{version.version === 1 ? "Initial policy" : "—"}</span>;
  const lines = describeChanges(version.changes);
  if (!lines.length && !thresholds.length) return <span className="text-fg-muted">No setting changed</span>;
  return (
    <ul className="space-y-0.5">
      {lines.map((c) => (
        <li key={c.key} className="text-sm">
          <span className="text-fg-muted">{c.label}:</span> {c.from} → <span className="font-medium">{c.to}</span>
        </li>
      ))}
      {thresholds.map((t) => (
        <li key={t.id} className="text-sm">
          <span className="text-fg-muted">{t.id} threshold:</span> {formatThreshold(t.from)} → <span className="font-medium">{formatThreshold(t.to)}</span>
        </li>
      ))}
    </ul>
  );
}
