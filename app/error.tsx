"use client";

import { useSyncExternalStore } from "react";
import { StatusPage } from "@/components/shell/status-page";

const noSubscription = () => () => undefined;
const readRequestId = () => document.querySelector<HTMLMetaElement>('meta[name="tether-request-id"]')?.content || undefined;

// Server errors reach the browser only as a digest; the request id links this page to the
// server's log line. Neither carries the error's message or stack.
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const requestId = useSyncExternalStore(noSubscription, readRequestId, () => undefined) ?? error.digest;
  return (
    <StatusPage code="500" title="Something went wrong" message="The console could not complete this request. It has been logged; quote the request id when you report it." requestId={requestId}>
      <button type="button" onClick={reset} className="text-sm font-medium text-accent underline-offset-4 hover:underline">
        Try again
      </button>
    </StatusPage>
  );
}
