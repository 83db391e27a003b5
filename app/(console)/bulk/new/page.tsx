import type { Metadata } from "next";
import Link from "next/link";
import { BulkPreviewView } from "@/components/bulk/bulk-preview";
import { BulkRequestForm } from "@/components/bulk/bulk-request-form";
import { KIND_LABELS } from "@/components/bulk/bulk-status-badge";
import { Alert } from "@/components/ui/alert";
import { PageHeader } from "@/components/ui/page-header";
import { requirePageActor } from "@/lib/auth/current-actor";
import { previewBulkAction } from "@/lib/bulk/preview-bulk-action";
import type { TBulkPreview, TBulkSelectionInput } from "@/lib/bulk/schemas";
import { isAppError, type TFieldIssue } from "@/lib/errors";
import type { TQueryRecord } from "@/lib/handles/handle-filter-schema";

export const metadata: Metadata = { title: "Bulk action preview" };

const OWN_PARAMS = new Set(["kind", "scope", "accessors"]);

/** The selection this address names: chosen accessors, or the inventory filter in the rest of the query. */
function selectionOf(query: TQueryRecord): TBulkSelectionInput {
  if (query.scope === "selected") {
    const raw = Array.isArray(query.accessors) ? query.accessors.join(",") : (query.accessors ?? "");
    return { type: "accessors", accessors: raw.split(",").map((s) => s.trim()).filter(Boolean) };
  }
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (OWN_PARAMS.has(key) || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  }
  return { type: "filter", filter: params.toString() };
}

function backHref(selection: TBulkSelectionInput): string {
  return selection.type === "filter" && selection.filter ? `/handles?${selection.filter}` : "/handles";
}

// GET /bulk/new?kind=revoke|cancel&scope=filter&<inventory filter> or &scope=selected&accessors=… —
// step 1 of a bulk action: the exact set, recomputed on every load, and the confirmation form.
export default async function NewBulkActionPage({ searchParams }: { searchParams: Promise<TQueryRecord> }) {
  const actor = await requirePageActor("handles.bulk_revoke");
  const query = await searchParams;
  const kind = query.kind === "cancel" ? "cancel" : "revoke";
  const selection = selectionOf(query);

  let preview: TBulkPreview | null = null;
  let problem: { message: string; issues: TFieldIssue[] } | null = null;
  try {
    preview = await previewBulkAction({ actor, data: { kind, selection } });
  } catch (err) {
    if (!isAppError(err) || err.status >= 500) throw err;
    problem = { message: err.message, issues: err.issues ?? [] };
  }

  return (
    <>
      <PageHeader
        title={`${KIND_LABELS[kind]}: preview`}
        description={
          kind === "revoke"
            ? "Step 1 of 2. Check exactly which handles will be revoked. Nothing has happened yet."
            : "Step 1 of 2. Check exactly which tasks will be cancelled upstream (and their handles revoked). Nothing has happened yet."
        }
        actions={
          <Link href={backHref(selection)} prefetch={false} className="text-sm text-accent underline-offset-4 hover:underline">
            ← Back to the handles
          </Link>
        }
      />
      <SelectionSummary selection={selection} preview={preview} />
      {problem ? (
        <Alert tone="danger">
          {problem.message}
          {problem.issues.length ? (
            <ul className="mt-1 list-disc pl-5">
              {problem.issues.map((i) => (
                <li key={`${i.path}:${i.message}`}>
                  <span className="font-mono">{i.path}</span>: {i.message}
                </li>
              ))}
            </ul>
          ) : null}
        </Alert>
      ) : null}
      {preview ? (
        <div className="space-y-6">
          <BulkPreviewView preview={preview} />
          <BulkRequestForm key={`${preview.fingerprint}@${preview.asOf}`} preview={preview} selection={selection} />
        </div>
      ) : null}
    </>
  );
}

function SelectionSummary({ selection, preview }: { selection: TBulkSelectionInput; preview: TBulkPreview | null }) {
  let text: React.ReactNode;
  if (selection.type === "accessors") {
    text = `${selection.accessors.length.toLocaleString("en")} handle${selection.accessors.length === 1 ? "" : "s"} chosen in the inventory.`;
  } else {
    const entries = preview?.selection.type === "filter" ? Object.entries(preview.selection.filter) : [];
    text = entries.length ? (
      <>
        Every handle matching{" "}
        {entries.map(([key, value], i) => (
          <span key={key}>
            {i > 0 ? " and " : ""}
            <span className="font-medium">{key}</span> = <span className="font-mono text-xs">{Array.isArray(value) ? value.join(" or ") : String(value)}</span>
          </span>
        ))}
        .
      </>
    ) : (
      "Every handle (no filter)."
    );
  }
  return (
    <p className="mb-4 text-sm" data-testid="bulk-selection">
      <span className="text-fg-muted">Selection: </span>
      {text}
    </p>
  );
}
