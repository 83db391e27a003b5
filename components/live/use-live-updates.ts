"use client";

import { useEffect, useSyncExternalStore } from "react";
import { liveConnection, type TLiveMessage, type TLiveState } from "./live-connection";

const serverSnapshot = (): TLiveState => "connecting";

/** The tab's live-connection state; keeps the connection open while the caller is mounted. */
export function useLiveState(): TLiveState {
  const connection = liveConnection();
  useEffect(() => connection.retain(), [connection]);
  return useSyncExternalStore(connection.subscribeState, connection.getState, serverSnapshot);
}

/** Calls `onMessage` for every live message while mounted (pass a stable callback). */
export function useLiveMessages(onMessage: (message: TLiveMessage) => void): void {
  useEffect(() => liveConnection().subscribe(onMessage), [onMessage]);
}
