"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import type { FormEvent } from "react";
import { Button } from "@/components/ui/button";
import { AUDIT_ACTIONS } from "@/lib/audit/events";
import { AUDIT_ACTOR_TYPES, AUDIT_OUTCOMES, AUDIT_PAGE_SIZE, type TNormalisedAuditFilter } from "@/lib/audit/schemas";
import { AUDIT_PATH } from "./urls";

const INPUT = "block w-full rounded-control border border-border bg-surface px-2.5 py-1.5 text-sm text-fg placeholder:text-fg-muted";
const PAGE_SIZES = [25, 50, 100, AUDIT_PAGE_SIZE.max];

/** Actions grouped by their domain prefix ("auth", "user", "audit", ...), for the picker. */
const ACTION_GROUPS = Object.entries(
  AUDIT_ACTIONS.reduce<Record<string, string[]>>((groups, action) => {
    (groups[action.split(".")[0]!] ??= []).push(action);
    return groups;
  }, {}),
);

/**
 * The filter form. It holds no state of its own: its defaults come from the URL (through the
 * page), submitting navigates to the new URL, and the key remounts it whenever the URL's
 * filter changes (Reset, back and forward), so what it shows is always what the list shows.
 */
export function AuditToolbar({ filter }: { filter: TNormalisedAuditFilter }) {
  const router = useRouter();

  function apply(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(e.currentTarget)) {
      if (typeof value !== "string" || value.trim() === "") continue;
      if (key === "limit" && Number(value) === AUDIT_PAGE_SIZE.default) continue;
      params.append(key, value.trim());
    }
    // A new filter starts at the newest events: no cursor is carried over.
    router.push(params.size ? `${AUDIT_PATH}?${params}` : AUDIT_PATH);
  }

  const selectedActions = new Set(filter.action ?? []);
  return (
    <form
      key={JSON.stringify(filter)}
      action={AUDIT_PATH}
      method="get"
      onSubmit={apply}
      role="search"
      aria-label="Filter audit events"
      className="mb-4 space-y-3 rounded-card border border-border bg-surface p-4"
    >
      <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
        <Field id="f-from" label="From (UTC)">
          <input id="f-from" name="from" type="datetime-local" step={1} defaultValue={toLocalInput(filter.from)} className={INPUT} />
        </Field>
        <Field id="f-to" label="To (UTC)">
          <input id="f-to" name="to" type="datetime-local" step={1} defaultValue={toLocalInput(filter.to)} className={INPUT} />
        </Field>
        <Field id="f-actor" label="Actor id">
          <input id="f-actor" name="actorId" defaultValue={filter.actorId} placeholder="principal id or system" className={`${INPUT} font-mono`} autoComplete="off" spellCheck={false} />
        </Field>
        <Field id="f-request" label="Request id">
          <input id="f-request" name="requestId" defaultValue={filter.requestId} className={`${INPUT} font-mono`} autoComplete="off" spellCheck={false} />
        </Field>
        <Field id="f-target-type" label="Target type">
          <input id="f-target-type" name="targetType" defaultValue={filter.targetType} placeholder="principal, handle, …" className={INPUT} autoComplete="off" spellCheck={false} />
        </Field>
        <Field id="f-target-id" label="Target id">
          <input id="f-target-id" name="targetId" defaultValue={filter.targetId} className={`${INPUT} font-mono`} autoComplete="off" spellCheck={false} />
        </Field>
        <Checkboxes legend="Actor type" name="actorType" options={AUDIT_ACTOR_TYPES} selected={filter.actorType} />
        <Checkboxes legend="Outcome" name="outcome" options={AUDIT_OUTCOMES} selected={filter.outcome} />
      </div>

      <details className="group rounded-control border border-border">
        <summary className="cursor-pointer select-none px-3 py-2 text-sm font-medium">
          Action <span className="font-normal text-fg-muted">· {describeSelection([...selectedActions])}</span>
        </summary>
        <fieldset className="grid gap-x-6 gap-y-3 border-t border-border px-3 py-3 sm:grid-cols-2 lg:grid-cols-4">
          <legend className="sr-only">Action</legend>
          {ACTION_GROUPS.map(([group, actions]) => (
            <div key={group} role="group" aria-labelledby={`f-action-${group}`}>
              <p id={`f-action-${group}`} className="mb-1 text-xs font-semibold uppercase tracking-wide text-fg-muted">
                {group}
              </p>
              {actions.map((action) => (
                <label key={action} className="flex items-center gap-2 py-0.5 font-mono text-xs">
                  <input type="checkbox" name="action" value={action} defaultChecked={selectedActions.has(action)} className="size-3.5 accent-[var(--accent)]" />
                  {action}
                </label>
              ))}
            </div>
          ))}
        </fieldset>
      </details>

      {filter.refHash ? (
        <p className="flex flex-wrap items-center gap-2 text-sm">
          <input type="hidden" name="refHash" value={filter.refHash} />
          <span className="rounded-full bg-surface-muted px-2.5 py-0.5">
            Refers to a secret value <code className="font-mono text-xs text-fg-muted">{filter.refHash.slice(0, 12)}…</code>
          </span>
          <span className="text-fg-muted">(kept when you apply other filters; Reset removes it)</span>
        </p>
      ) : null}

      <div className="flex flex-wrap items-end justify-between gap-3">
        <div className="flex items-center gap-2 text-sm">
          <label htmlFor="f-limit" className="text-fg-muted">
            Rows per page
          </label>
          <select id="f-limit" name="limit" defaultValue={String(filter.limit)} className="rounded-control border border-border bg-surface px-2 py-1 text-sm">
            {[...new Set([...PAGE_SIZES, filter.limit])].sort((a, b) => a - b).map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <div className="flex items-center gap-2">
          <Link href={AUDIT_PATH} prefetch={false} className="inline-flex h-9 items-center rounded-control px-3.5 text-sm font-medium text-fg-muted hover:bg-surface-muted hover:text-fg">
            Reset
          </Link>
          <Button type="submit">Apply filters</Button>
        </div>
      </div>
    </form>
  );
}

function Field({ id, label, children }: { id: string; label: string; children: React.ReactNode }) {
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-xs font-medium text-fg-muted">
        {label}
      </label>
      {children}
    </div>
  );
}

function Checkboxes({ legend, name, options, selected }: { legend: string; name: string; options: readonly string[]; selected: string[] | undefined }) {
  return (
    <fieldset className="space-y-1">
      <legend className="mb-1 text-xs font-medium text-fg-muted">{legend}</legend>
      <div className="flex flex-wrap gap-x-4 gap-y-1 pt-1">
        {options.map((option) => (
          <label key={option} className="flex items-center gap-1.5 text-sm">
            <input type="checkbox" name={name} value={option} defaultChecked={selected?.includes(option) ?? false} className="size-3.5 accent-[var(--accent)]" />
            {option}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function describeSelection(actions: string[]): string {
  if (actions.length === 0) return "any";
  return actions.length <= 3 ? actions.join(", ") : `${actions.length} selected`;
}

/** ISO instant → the value a datetime-local input shows, in UTC (the console's time zone). */
function toLocalInput(iso: string | undefined): string | undefined {
  return iso ? iso.slice(0, 19) : undefined;
}
