"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import type { FormEvent, ReactNode } from "react";
import { Button } from "@/components/ui/button";
import {
  HANDLE_CANCEL_STATES,
  HANDLE_PAGE_SIZE,
  HANDLE_STATES,
  HANDLE_STATUSES,
  HANDLE_WIRES,
  type TNormalisedHandleFilter,
} from "@/lib/handles/handle-filter-schema";
import type { THandleFacets } from "@/lib/handles/handle-list-dto";
import { INVENTORY_PATH } from "./inventory-urls";

const INPUT = "block w-full rounded-control border border-border bg-surface px-2.5 py-1.5 text-sm text-fg placeholder:text-fg-muted";
const PAGE_SIZES = [25, 50, 100, HANDLE_PAGE_SIZE.max];
const nf = new Intl.NumberFormat("en");
const WIRE_LABELS: Record<string, string> = { core_2025_11_25: "MCP 2025-11-25 tasks", ext_2026_07_28: "2026-07-28 Tasks extension" };

export type TInventoryToolbarProps = {
  filter: TNormalisedHandleFilter;
  limit: number;
  /** Parameters the form carries through unchanged: preset, sort, dir, cols. */
  keep: Record<string, string>;
  /** Null while the counts load, or when they could not be computed (`facetsNote` says which). */
  facets: THandleFacets | null;
  facetsNote?: string;
  clearHref: string;
};

/**
 * The filter form. It holds no state of its own: its defaults come from the URL (through the
 * page), submitting navigates to the new URL, and the key remounts it whenever the URL's filter
 * changes, so what it shows is always what the list shows. Status, server and owner are
 * multi-select facets with counts under the rest of the filter.
 */
export function InventoryToolbar({ filter, limit, keep, facets, facetsNote, clearHref }: TInventoryToolbarProps) {
  const router = useRouter();

  function apply(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(e.currentTarget)) {
      if (typeof value !== "string" || value.trim() === "") continue;
      if (key === "limit" && Number(value) === HANDLE_PAGE_SIZE.default) continue;
      // datetime-local gives "2026-11-26T09:00:00" without an offset, which the filter reads as UTC.
      params.append(key, value.trim());
    }
    // A new filter starts at the first page: no cursor is carried over.
    router.push(params.size ? `${INVENTORY_PATH}?${params}` : INVENTORY_PATH);
  }

  const statusCounts = new Map(facets?.status.map((s) => [s.value, s.count]));
  const serverOptions = facets
    ? facets.server.map((s) => ({ value: s.slug, label: s.slug, hint: s.name, count: s.count }))
    : (filter.server ?? []).map((slug) => ({ value: slug, label: slug }));
  const ownerOptions = facets
    ? facets.owner.map((o) => ({ value: o.id, label: o.name, hint: o.kind === "service" ? "agent" : o.kind, count: o.count }))
    : (filter.owner ?? []).map((id) => ({ value: id, label: id.slice(0, 8) }));

  return (
    <form
      key={JSON.stringify([filter, limit, keep])}
      action={INVENTORY_PATH}
      method="get"
      onSubmit={apply}
      role="search"
      aria-label="Filter handles"
      className="mb-4 space-y-3 rounded-card border border-border bg-surface p-4"
    >
      {Object.entries(keep).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <div className="grid gap-3 md:grid-cols-2 lg:grid-cols-4">
        <Facet
          legend="Status"
          name="status"
          selected={filter.status}
          options={HANDLE_STATUSES.map((s) => ({ value: s, label: s.replace("_", " "), ...(facets ? { count: statusCounts.get(s) ?? 0 } : {}) }))}
        />
        <Facet legend="Server" name="server" selected={filter.server} options={serverOptions} empty="No server has matching handles." />
        <Facet
          legend="Owner"
          name="owner"
          selected={filter.owner}
          options={ownerOptions}
          empty="No owner has matching handles."
          footer={facets?.ownersTruncated ? "Only the owners with the most handles are listed; filter by an owner id below for others." : undefined}
        />
        <Facet legend="Revocation state" name="state" selected={filter.state} options={HANDLE_STATES.map((s) => ({ value: s, label: s }))} />
      </div>

      <details className="rounded-control border border-border" open={hasMoreFilters(filter)}>
        <summary className="cursor-pointer select-none px-3 py-2 text-sm font-medium">More filters</summary>
        <div className="grid gap-3 border-t border-border px-3 py-3 sm:grid-cols-2 lg:grid-cols-4">
          <Field id="f-accessor" label="Accessor starts with">
            <input id="f-accessor" name="accessor" defaultValue={filter.accessor} placeholder="hdl_3f2a" className={`${INPUT} font-mono`} autoComplete="off" spellCheck={false} />
          </Field>
          <Field id="f-tool" label="Tool">
            <input id="f-tool" name="tool" defaultValue={filter.tool} placeholder="exact tool name" className={`${INPUT} font-mono`} autoComplete="off" spellCheck={false} />
          </Field>
          <Field id="f-session" label="Session id">
            <input id="f-session" name="session" defaultValue={filter.session} className={`${INPUT} font-mono`} autoComplete="off" spellCheck={false} />
          </Field>
          <Field id="f-owner-id" label="Owner id">
            <input id="f-owner-id" name="owner" placeholder="principal id" className={`${INPUT} font-mono`} autoComplete="off" spellCheck={false} />
          </Field>
          <Field id="f-created-from" label="Created from (UTC)">
            <input id="f-created-from" name="createdFrom" type="datetime-local" step={1} defaultValue={toLocalInput(filter.createdFrom)} className={INPUT} />
          </Field>
          <Field id="f-created-to" label="Created to (UTC)">
            <input id="f-created-to" name="createdTo" type="datetime-local" step={1} defaultValue={toLocalInput(filter.createdTo)} className={INPUT} />
          </Field>
          <Field id="f-expires-from" label="Expires from (UTC)">
            <input id="f-expires-from" name="expiresFrom" type="datetime-local" step={1} defaultValue={toLocalInput(filter.expiresFrom)} className={INPUT} />
          </Field>
          <Field id="f-expires-to" label="Expires to (UTC)">
            <input id="f-expires-to" name="expiresTo" type="datetime-local" step={1} defaultValue={toLocalInput(filter.expiresTo)} className={INPUT} />
          </Field>
          <Field id="f-policy" label="Policy versions">
            <input id="f-policy" name="policy" defaultValue={filter.policy?.join(",")} placeholder="e.g. 1,2" className={INPUT} autoComplete="off" inputMode="numeric" />
          </Field>
          <Facet legend="Cancel state" name="cancel" selected={filter.cancel} options={HANDLE_CANCEL_STATES.map((s) => ({ value: s, label: s.replace(/_/g, " ") }))} />
          <Facet legend="Task wire" name="wire" selected={filter.wire} options={HANDLE_WIRES.map((w) => ({ value: w, label: WIRE_LABELS[w] ?? w }))} />
        </div>
      </details>

      <div className="flex flex-wrap items-end justify-between gap-3">
        <div className="flex flex-wrap items-center gap-4 text-sm">
          <span className="flex items-center gap-2">
            <label htmlFor="f-limit" className="text-fg-muted">
              Rows per page
            </label>
            <select id="f-limit" name="limit" defaultValue={String(limit)} className="rounded-control border border-border bg-surface px-2 py-1 text-sm">
              {[...new Set([...PAGE_SIZES, limit])].sort((a, b) => a - b).map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </span>
          <span className="text-fg-muted" data-testid="handle-total" aria-live="polite">
            {facets ? `${nf.format(facets.total)} handle${facets.total === 1 ? "" : "s"} match` : (facetsNote ?? "Counting…")}
          </span>
        </div>
        <div className="flex items-center gap-2">
          <Link href={clearHref} prefetch={false} className="inline-flex h-9 items-center rounded-control px-3.5 text-sm font-medium text-fg-muted hover:bg-surface-muted hover:text-fg">
            Clear filters
          </Link>
          <Button type="submit">Apply filters</Button>
        </div>
      </div>
    </form>
  );
}

type TOption = { value: string; label: string; hint?: string; count?: number };

/** A multi-select as a disclosure of checkboxes, each with its count; the summary names the choice. */
function Facet(props: { legend: string; name: string; options: TOption[]; selected: Array<string | number> | undefined; empty?: string; footer?: string | undefined }) {
  const selected = new Set((props.selected ?? []).map(String));
  const chosen = props.options.filter((o) => selected.has(o.value)).map((o) => o.label);
  const summary = selected.size === 0 ? "any" : chosen.length && chosen.length <= 2 ? chosen.join(", ") : `${selected.size} selected`;
  return (
    <details className="group rounded-control border border-border">
      <summary className="cursor-pointer select-none px-3 py-2 text-sm font-medium">
        {props.legend} <span className="font-normal text-fg-muted">· {summary}</span>
      </summary>
      <fieldset className="max-h-72 overflow-y-auto border-t border-border px-3 py-2">
        <legend className="sr-only">{props.legend}</legend>
        {props.options.length === 0 ? <p className="py-1 text-xs text-fg-muted">{props.empty ?? "Nothing to choose."}</p> : null}
        {props.options.map((o) => (
          <label key={o.value} className="flex items-center gap-2 py-0.5 text-sm">
            <input type="checkbox" name={props.name} value={o.value} defaultChecked={selected.has(o.value)} className="size-3.5 shrink-0 accent-[var(--accent)]" />
            <span className="min-w-0 flex-1 truncate" title={o.hint ? `${o.label} (${o.hint})` : o.label}>
              {o.label}
              {o.hint ? <span className="text-xs text-fg-muted"> · {o.hint}</span> : null}
            </span>
            {o.count !== undefined ? <span className="text-xs tabular-nums text-fg-muted">{nf.format(o.count)}</span> : null}
          </label>
        ))}
        {props.footer ? <p className="pt-1 text-xs text-fg-muted">{props.footer}</p> : null}
      </fieldset>
    </details>
  );
}

function Field({ id, label, children }: { id: string; label: string; children: ReactNode }) {
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-xs font-medium text-fg-muted">
        {label}
      </label>
      {children}
    </div>
  );
}

function hasMoreFilters(f: TNormalisedHandleFilter): boolean {
  return Boolean(f.accessor || f.tool || f.session || f.createdFrom || f.createdTo || f.expiresFrom || f.expiresTo || f.policy?.length || f.cancel?.length || f.wire?.length);
}

/** ISO instant → the value a datetime-local input shows, in UTC (the console's time zone). */
function toLocalInput(iso: string | undefined): string | undefined {
  return iso ? iso.slice(0, 19) : undefined;
}
