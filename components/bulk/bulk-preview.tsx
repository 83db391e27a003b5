import Link from "next/link";
import { Badge, Table, Td, Th } from "@/components/ui/table";
import { formatTimestamp } from "@/lib/format";
import type { TBulkPreview } from "@/lib/bulk/schemas";
import { handleHref } from "@/components/handles/inventory-urls";

const n = (v: number) => v.toLocaleString("en");

/** The exact set a bulk action would act on: how many, a sample, and by server and owner. */
export function BulkPreviewView({ preview }: { preview: TBulkPreview }) {
  const verb = preview.kind === "revoke" ? "revoked" : "cancelled (and revoked)";
  return (
    <div className="space-y-6">
      <section aria-labelledby="bulk-count" className="rounded-card border border-border bg-surface px-4 py-4">
        <h2 id="bulk-count" className="sr-only">
          Count
        </h2>
        <p className="text-sm text-fg-muted">Handles that will be {verb}</p>
        <p className="text-3xl font-semibold tabular-nums" data-testid="bulk-preview-count">
          {n(preview.count)}
        </p>
        <p className="mt-1 text-xs text-fg-muted">
          Exactly these: live handles{preview.kind === "cancel" ? " whose task is still running" : ""} the selection names, created up to {formatTimestamp(new Date(preview.asOf))}.
          Handles minted later are not included.
          {preview.notApplicable > 0
            ? ` ${n(preview.notApplicable)} more ${preview.notApplicable === 1 ? "is" : "are"} selected but ${preview.notApplicable === 1 ? "is" : "are"} already revoked, expired${preview.kind === "cancel" ? ", ended" : ""} or unknown, and will be left alone.`
            : ""}
        </p>
      </section>

      <div className="grid gap-6 lg:grid-cols-2">
        <Breakdown
          title="By server"
          rows={preview.byServer.map((s) => ({ key: s.id, label: s.name, sub: s.slug, count: s.count }))}
          more={preview.moreServers}
          noun="servers"
        />
        <Breakdown
          title="By owner"
          rows={preview.byOwner.map((o) => ({ key: o.id, label: o.name, sub: o.kind === "service" ? "agent" : o.kind, count: o.count }))}
          more={preview.moreOwners}
          noun="owners"
        />
      </div>

      <section aria-labelledby="bulk-sample" className="space-y-2">
        <h2 id="bulk-sample" className="font-semibold">
          Sample <span className="text-sm font-normal text-fg-muted">({n(preview.sample.length)} of {n(preview.count)}, newest first)</span>
        </h2>
        {preview.sample.length === 0 ? (
          <p className="text-sm text-fg-muted">Nothing to show: no handle in this selection can be {verb}.</p>
        ) : (
          <Table label="Sample of the handles">
            <thead>
              <tr>
                <Th>Accessor</Th>
                <Th>Server</Th>
                <Th>Owner</Th>
                <Th>Tool</Th>
                <Th>Status</Th>
                <Th>Created</Th>
                <Th>Expires</Th>
              </tr>
            </thead>
            <tbody>
              {preview.sample.map((h) => (
                <tr key={h.accessor} data-testid="bulk-sample-row">
                  <Td>
                    <Link href={handleHref(h.accessor)} prefetch={false} className="font-mono text-xs text-accent underline-offset-4 hover:underline">
                      {h.accessor}
                    </Link>
                  </Td>
                  <Td className="text-xs">{h.server}</Td>
                  <Td className="text-xs">{h.owner}</Td>
                  <Td className="font-mono text-xs">{h.toolName}</Td>
                  <Td>
                    <Badge>{h.status.replace("_", " ")}</Badge>
                  </Td>
                  <Td className="whitespace-nowrap text-xs">{formatTimestamp(new Date(h.createdAt))}</Td>
                  <Td className="whitespace-nowrap text-xs">{formatTimestamp(new Date(h.expiresAt))}</Td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </section>
    </div>
  );
}

function Breakdown({ title, rows, more, noun }: { title: string; rows: Array<{ key: string; label: string; sub: string; count: number }>; more: number; noun: string }) {
  const id = `bulk-${title.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <section aria-labelledby={id} className="space-y-2">
      <h2 id={id} className="font-semibold">
        {title}
      </h2>
      {rows.length === 0 ? (
        <p className="text-sm text-fg-muted">None.</p>
      ) : (
        <Table label={title}>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <Td>
                  <span className="font-medium">{r.label}</span> <span className="text-xs text-fg-muted">{r.sub}</span>
                </Td>
                <Td className="text-right tabular-nums">{n(r.count)}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {more > 0 ? <p className="text-xs text-fg-muted">…and {n(more)} more {noun}.</p> : null}
    </section>
  );
}
