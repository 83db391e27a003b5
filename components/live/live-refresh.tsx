"use client";

import { useRouter } from "next/navigation";
import { useCallback, useEffect } from "react";
import type { TLiveTopic } from "@/lib/live/schemas";
import { requestRefresh, type TLiveMessage } from "./live-connection";
import { useLiveMessages, useLiveState } from "./use-live-updates";

export type TLiveRefreshProps = {
  /** Which kinds of change re-render this page. */
  topics: TLiveTopic[];
  /** Only changes of this handle (bulk changes always count: they do not name their handles). */
  accessor?: string;
  /** Only changes of handles on this server, or of this server. */
  serverId?: string;
  /** While the stream is down, refresh this often instead (seconds). */
  fallbackSeconds?: number;
};

/**
 * Opts a page into live updates: re-renders its server components (router.refresh, at most twice
 * a second per tab) when a matching change arrives, refreshes once after the stream was down
 * (changes may have been missed), and every `fallbackSeconds` while it is down. Renders nothing.
 *
 *   <LiveRefresh topics={["handle"]} accessor={handle.accessor} />
 */
export function LiveRefresh({ topics, accessor, serverId, fallbackSeconds = 10 }: TLiveRefreshProps) {
  const router = useRouter();
  const state = useLiveState();
  const topicKey = topics.join(",");

  const onMessage = useCallback(
    (message: TLiveMessage) => {
      if (matches(message, topicKey.split(","), accessor, serverId)) requestRefresh(() => router.refresh());
    },
    [router, topicKey, accessor, serverId],
  );
  useLiveMessages(onMessage);

  const down = state === "reconnecting" || state === "offline";
  useEffect(() => {
    if (!down) return;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") requestRefresh(() => router.refresh());
    }, fallbackSeconds * 1000);
    return () => clearInterval(timer);
  }, [down, fallbackSeconds, router]);

  return null;
}

function matches(message: TLiveMessage, topics: string[], accessor: string | undefined, serverId: string | undefined): boolean {
  if (message.type === "resync") return true;
  if (!topics.includes(message.type)) return false;
  if (message.type === "server") return serverId === undefined || message.data.changes.some((c) => c.serverId === serverId);
  const { changes, bulk } = message.data;
  if (bulk && (serverId === undefined || bulk.moreServers || bulk.serverIds.includes(serverId))) return true;
  return changes.some((c) => (accessor === undefined || c.accessor === accessor) && (serverId === undefined || c.serverId === serverId));
}
