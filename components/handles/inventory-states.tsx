import Link from "next/link";
import { Alert } from "@/components/ui/alert";
import { EmptyState } from "@/components/ui/page-header";
import type { TFieldIssue } from "@/lib/errors";

const LINK = "mt-2 inline-block font-medium text-accent underline-offset-4 hover:underline";

/** No handle matches: say so, and offer the way back to everything. */
export function InventoryEmpty({ filtered, clearHref, firstPageHref }: { filtered: boolean; clearHref: string; firstPageHref: string | null }) {
  if (firstPageHref) {
    return (
      <EmptyState title="No more handles on this page">
        <p>The handles after this point no longer match the filter.</p>
        <Link href={firstPageHref} prefetch={false} className={LINK}>
          Back to the first page
        </Link>
      </EmptyState>
    );
  }
  if (filtered) {
    return (
      <EmptyState title="No handles match this filter">
        <p>Widen a time range, choose another preset, or remove a filter.</p>
        <Link href={clearHref} prefetch={false} className={LINK}>
          Clear filters
        </Link>
      </EmptyState>
    );
  }
  return (
    <EmptyState title="No handles yet">
      Handles appear here when an agent starts a task through the gateway at <code className="font-mono">/mcp/&lt;server&gt;</code>.
    </EmptyState>
  );
}

/** The list could not be read. The page around it stays usable; the request id ties it to the log. */
export function InventoryError({ requestId, retryHref }: { requestId: string; retryHref: string }) {
  return (
    <div role="alert" className="rounded-card border border-danger/40 bg-danger-surface px-6 py-10 text-center text-danger">
      <p className="font-medium">The handles could not be loaded</p>
      <p className="mx-auto mt-2 max-w-lg text-sm">
        This has been logged. Try again in a moment; if it keeps happening, quote request id{" "}
        <code className="rounded bg-surface px-1.5 py-0.5 font-mono text-fg" data-testid="request-id">
          {requestId}
        </code>
        .
      </p>
      <Link href={retryHref} prefetch={false} className={LINK}>
        Try again
      </Link>
    </div>
  );
}

const FIELD_LABELS: Record<string, string> = {
  preset: "Preset",
  status: "Status",
  server: "Server",
  owner: "Owner",
  session: "Session",
  tool: "Tool",
  accessor: "Accessor",
  createdFrom: "Created from",
  createdTo: "Created to",
  expiresFrom: "Expires from",
  expiresTo: "Expires to",
  state: "Revocation state",
  cancel: "Cancel state",
  policy: "Policy version",
  wire: "Task wire",
  sort: "Sort",
  dir: "Sort direction",
  limit: "Rows per page",
  cursor: "Page",
};

/** Parameters of the address the page could not use, named so the reader knows the list is wider. */
export function InventoryIgnoredFilters({ issues }: { issues: TFieldIssue[] }) {
  if (!issues.length) return null;
  return (
    <Alert tone="danger" className="mb-4">
      <p className="font-medium">Some filters in the address are not valid and were ignored, so the list below is not narrowed by them:</p>
      <ul className="mt-1 list-disc pl-5">
        {issues.map((issue) => (
          <li key={issue.path}>
            <span className="font-medium">{FIELD_LABELS[issue.path] ?? issue.path}:</span> {issue.message}
          </li>
        ))}
      </ul>
    </Alert>
  );
}
