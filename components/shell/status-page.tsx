import Link from "next/link";

/** Full-page message used by the 404, 403 and error pages. Never shows a stack trace. */
export function StatusPage(props: { code: string; title: string; message: string; requestId?: string; children?: React.ReactNode }) {
  return (
    <main className="mx-auto flex min-h-[70vh] max-w-xl flex-col justify-center gap-4 px-6 py-16" aria-labelledby="status-title">
      <p className="font-mono text-sm text-fg-muted">{props.code}</p>
      <h1 id="status-title" className="text-2xl font-semibold">
        {props.title}
      </h1>
      <p className="text-fg-muted">{props.message}</p>
      {props.requestId ? (
        <p className="text-sm text-fg-muted">
          Request id: <code className="rounded bg-surface-muted px-1.5 py-0.5 font-mono text-fg" data-testid="request-id">{props.requestId}</code>
        </p>
      ) : null}
      <div className="flex gap-3">
        {props.children}
        <Link href="/" className="text-sm font-medium text-accent underline-offset-4 hover:underline">
          Go to the console
        </Link>
      </div>
    </main>
  );
}
