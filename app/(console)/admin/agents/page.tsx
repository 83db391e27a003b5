import type { Metadata } from "next";
import { AdminSubNav } from "@/components/admin/admin-sub-nav";
import { ApiKeyRowActions } from "@/components/admin/api-key-row-actions";
import { CreateApiKeyForm } from "@/components/admin/create-api-key-form";
import { CreateServiceAccountForm } from "@/components/admin/create-service-account-form";
import { ServiceAccountActions } from "@/components/admin/service-account-actions";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { Badge, Table, Td, Th } from "@/components/ui/table";
import { listApiKeys } from "@/lib/api-keys/list-api-keys";
import { listServiceAccounts } from "@/lib/api-keys/list-service-accounts";
import type { TApiKeyDto, TApiKeyStatus, TServiceAccountDto } from "@/lib/api-keys/schemas";
import { requirePageActor } from "@/lib/auth/current-actor";
import { formatTimestamp } from "@/lib/format";

export const metadata: Metadata = { title: "Admin · Agents & API keys" };

const STATUS_TONE = { active: "success", expired: "warning", revoked: "danger" } as const;
const STATUS_ORDER: Record<TApiKeyStatus, number> = { active: 0, expired: 1, revoked: 2 };

export default async function AdminAgentsPage() {
  const actor = await requirePageActor("keys.manage");
  const [accounts, keys] = await Promise.all([listServiceAccounts({ actor }), listApiKeys({ actor })]);
  const keysByAccount = new Map<string, TApiKeyDto[]>();
  for (const k of keys) keysByAccount.set(k.principal.id, [...(keysByAccount.get(k.principal.id) ?? []), k]);
  return (
    <>
      <PageHeader
        title="Agents & API keys"
        description="Service accounts are the agents that call Tether's gateway and REST API. A key is shown once, when it is created; Tether stores only its hash and shows its prefix. Every change is recorded in the audit trail."
      />
      <AdminSubNav current="/admin/agents" role={actor.role} />
      <div className="space-y-6">
        {accounts.length === 0 ? (
          <EmptyState title="No service accounts yet">Add one below, then create an API key for it.</EmptyState>
        ) : (
          accounts.map((account) => <AccountCard key={account.id} account={account} keys={keysByAccount.get(account.id) ?? []} />)
        )}
        <CreateServiceAccountForm />
      </div>
    </>
  );
}

function AccountCard({ account, keys }: { account: TServiceAccountDto; keys: TApiKeyDto[] }) {
  const titleId = `account-${account.id}`;
  const sorted = keys.toSorted((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || b.createdAt.getTime() - a.createdAt.getTime());
  return (
    <section aria-labelledby={titleId} className="rounded-card border border-border bg-surface" data-testid="service-account">
      <div className="flex flex-wrap items-start justify-between gap-3 border-b border-border px-4 py-3">
        <div className="space-y-1">
          <div className="flex flex-wrap items-center gap-2">
            <h2 id={titleId} className="font-semibold">
              {account.name}
            </h2>
            <Badge tone="accent">{account.role}</Badge>
            {account.disabledAt ? <Badge tone="danger">disabled</Badge> : <Badge tone="success">enabled</Badge>}
          </div>
          <p className="text-xs text-fg-muted">
            Created {formatTimestamp(account.createdAt)} · {account.activeKeys} active {account.activeKeys === 1 ? "key" : "keys"}
            {account.disabledAt ? ` · disabled ${formatTimestamp(account.disabledAt)}, its keys are refused` : ""}
          </p>
        </div>
        <ServiceAccountActions account={{ id: account.id, name: account.name, disabled: account.disabledAt !== null, activeKeys: account.activeKeys }} />
      </div>
      <div className="space-y-4 p-4">
        {sorted.length === 0 ? (
          <p className="text-sm text-fg-muted">No API keys yet.</p>
        ) : (
          <Table label={`API keys of ${account.name}`}>
            <thead>
              <tr>
                <Th>Key</Th>
                <Th>Status</Th>
                <Th>Created</Th>
                <Th>Expires</Th>
                <Th>Last used</Th>
                {/* relative: keeps sr-only text inside the table's scroll box on narrow screens */}
                <Th className="relative w-0">
                  <span className="sr-only">Actions</span>
                </Th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((k) => (
                <tr key={k.id} className={k.status === "active" ? undefined : "text-fg-muted"}>
                  <Td>
                    <p className="font-medium text-fg">{k.name}</p>
                    <p className="font-mono text-xs">{k.prefix}…</p>
                  </Td>
                  <Td className="whitespace-nowrap text-xs">
                    <Badge tone={STATUS_TONE[k.status]}>{k.status}</Badge>
                    {k.revokedAt ? <span className="mt-1 block">{formatTimestamp(k.revokedAt)}</span> : null}
                  </Td>
                  <Td className="whitespace-nowrap text-xs">
                    {formatTimestamp(k.createdAt)}
                    {k.createdBy ? <span className="block text-fg-muted">by {k.createdBy.name}</span> : null}
                  </Td>
                  <Td className="whitespace-nowrap text-xs">
                    {k.expiresAt ? formatTimestamp(k.expiresAt) : "never"}
                  </Td>
                  <Td className="whitespace-nowrap text-xs">{k.lastUsedAt ? formatTimestamp(k.lastUsedAt) : "never"}</Td>
                  <Td className="relative text-right">{k.status === "revoked" ? null : <ApiKeyRowActions apiKey={{ id: k.id, prefix: k.prefix, name: k.name }} />}</Td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
        {account.disabledAt ? (
          <p className="text-sm text-fg-muted">Enable the account to create keys for it.</p>
        ) : (
          <CreateApiKeyForm principalId={account.id} accountName={account.name} />
        )}
      </div>
    </section>
  );
}
