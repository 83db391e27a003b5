"use client";

import { clsx } from "clsx";
import type { TLiveState } from "./live-connection";
import { useLiveState } from "./use-live-updates";

const LOOK: Record<TLiveState, { label: string; title: string; dot: string; text: string }> = {
  connecting: { label: "Connecting…", title: "Opening the live-update stream.", dot: "bg-fg-muted", text: "text-fg-muted" },
  live: { label: "Live", title: "Changes appear as they happen.", dot: "bg-success", text: "text-success" },
  reconnecting: {
    label: "Reconnecting…",
    title: "The live-update stream is interrupted; pages refresh themselves every few seconds until it is back.",
    dot: "bg-warning animate-pulse",
    text: "text-warning",
  },
  offline: {
    label: "Offline · refreshing",
    title: "Live updates are unavailable; pages refresh themselves every few seconds, and the stream keeps being retried.",
    dot: "bg-danger",
    text: "text-danger",
  },
};

/** The header's live-update indicator: live, connecting, reconnecting, or offline (refreshing periodically). */
export function LiveIndicator() {
  const state = useLiveState();
  const look = LOOK[state];
  return (
    <span role="status" aria-live="polite" title={look.title} data-testid="live-indicator" data-state={state} className={clsx("inline-flex items-center gap-1.5 text-xs font-medium", look.text)}>
      <span aria-hidden className={clsx("inline-block h-2 w-2 rounded-full", look.dot)} />
      {look.label}
    </span>
  );
}
