import { clsx } from "clsx";
import type { InputHTMLAttributes, SelectHTMLAttributes } from "react";

const CONTROL =
  "block w-full rounded-control border bg-surface px-3 py-2 text-sm text-fg placeholder:text-fg-muted aria-[invalid=true]:border-danger border-border";

/** A labelled input with its error announced to assistive technology. */
export function TextField({ label, error, id, hint, ...props }: InputHTMLAttributes<HTMLInputElement> & { label: string; error?: string | undefined; hint?: string; id: string }) {
  return (
    <div className="space-y-1.5">
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      <input id={id} aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-error` : hint ? `${id}-hint` : undefined} className={CONTROL} {...props} />
      {hint && !error ? <p id={`${id}-hint`} className="text-xs text-fg-muted">{hint}</p> : null}
      {error ? (
        <p id={`${id}-error`} className="text-xs text-danger">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function SelectField({ label, error, id, children, className, ...props }: SelectHTMLAttributes<HTMLSelectElement> & { label: string; error?: string | undefined; id: string }) {
  return (
    <div className={clsx("space-y-1.5", className)}>
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      <select id={id} aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-error` : undefined} className={CONTROL} {...props}>
        {children}
      </select>
      {error ? (
        <p id={`${id}-error`} className="text-xs text-danger">
          {error}
        </p>
      ) : null}
    </div>
  );
}
