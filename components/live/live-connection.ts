// The browser's one live-update connection per tab (GET /api/live, Server-Sent Events), shared by
// the header's indicator and every <LiveRefresh> on the page. It opens while any of them is
// mounted, reconnects itself with backoff (1 s, 2 s, 4 s … 30 s, ±20 %), watches for a stream that
// went silent (no ping for 40 s), and reports one of four states:
//   connecting   – first connection not open yet;
//   live         – open, and the server hears Postgres: changes arrive as they commit;
//   reconnecting – the stream dropped, or the server stopped hearing Postgres: pages refresh
//                  themselves periodically until it is back, then once to catch up;
//   offline      – three attempts in a row failed (server down, signed out): pages keep
//                  refreshing periodically while the connection keeps being retried.
// Opening, it tells the server when the page's data was read (the console layout's
// `data-live-since`, the server's own clock); when a change may have committed since that no frame
// of the new stream will bring, the server says the page is stale and pages refresh once, as
// after a reconnect.
import type { TLiveHandleEvent, TLiveReadyEvent, TLiveServerEvent, TLiveStateEvent } from "@/lib/live/schemas";

export type TLiveState = "connecting" | "live" | "reconnecting" | "offline";
export type TLiveMessage =
  | { type: "handle"; data: TLiveHandleEvent }
  | { type: "server"; data: TLiveServerEvent }
  /** Changes may have been missed (the stream or the server's LISTEN was down): refresh once. */
  | { type: "resync" };

const URL_PATH = "/api/live";
const BACKOFF_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];
const OFFLINE_AFTER_FAILURES = 3;
const SILENCE_MS = 40_000;
const CONNECT_GRACE_MS = 3_000;

class LiveConnection {
  private state: TLiveState = "connecting";
  private source: EventSource | null = null;
  private users = 0;
  private failures = 0;
  private missed = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private silenceTimer: ReturnType<typeof setTimeout> | null = null;
  private graceTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly stateListeners = new Set<() => void>();
  private readonly messageListeners = new Set<(m: TLiveMessage) => void>();

  getState = (): TLiveState => this.state;

  subscribeState = (listener: () => void): (() => void) => {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  };

  subscribe(listener: (m: TLiveMessage) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  /** Keeps the connection open while the caller is mounted. */
  retain(): () => void {
    if (this.users++ === 0) this.open(pageSince());
    return () => {
      if (--this.users === 0) this.close();
    };
  }

  private setState(next: TLiveState): void {
    if (this.graceTimer && next !== "connecting") {
      clearTimeout(this.graceTimer);
      this.graceTimer = null;
    }
    if (next === this.state) return;
    if (next !== "live" && this.state !== "connecting") this.missed = true;
    this.state = next;
    for (const l of this.stateListeners) l();
    if (next === "live" && this.missed) {
      this.missed = false;
      this.emit({ type: "resync" });
    }
  }

  private emit(message: TLiveMessage): void {
    for (const l of this.messageListeners) l(message);
  }

  /** `since`: when the page's data was read (server clock); a reconnect sends none (`missed` covers it). */
  private open(since?: string): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const source = new EventSource(since === undefined ? URL_PATH : `${URL_PATH}?since=${since}`);
    this.source = source;
    const parse = <T,>(e: Event): T | null => {
      try {
        return JSON.parse((e as MessageEvent<string>).data) as T;
      } catch {
        return null;
      }
    };
    const heard = () => {
      if (this.silenceTimer) clearTimeout(this.silenceTimer);
      this.silenceTimer = setTimeout(() => this.fail(source), SILENCE_MS);
    };
    source.addEventListener("ready", (e) => {
      heard();
      this.failures = 0;
      const ready = parse<TLiveReadyEvent>(e);
      // A change may have committed between the page's render and this stream: refresh once live.
      if (ready?.stale) this.missed = true;
      if (ready?.live) this.setState("live");
      // The first stream of a fresh server process opens its LISTEN a moment later (`state`
      // follows): only a page that was live before, or a wait past the grace, counts as down.
      else if (this.state !== "connecting") this.setState("reconnecting");
      else this.graceTimer ??= setTimeout(() => this.state === "connecting" && this.setState("reconnecting"), CONNECT_GRACE_MS);
    });
    source.addEventListener("state", (e) => {
      heard();
      this.setState(parse<TLiveStateEvent>(e)?.live ? "live" : "reconnecting");
    });
    source.addEventListener("ping", heard);
    source.addEventListener("handle", (e) => {
      heard();
      const data = parse<TLiveHandleEvent>(e);
      if (data) this.emit({ type: "handle", data });
    });
    source.addEventListener("server", (e) => {
      heard();
      const data = parse<TLiveServerEvent>(e);
      if (data) this.emit({ type: "server", data });
    });
    // The server ended the stream (lifetime, sign-out, a slow reader): reconnect; a signed-out
    // viewer's next attempt fails and the backoff takes over.
    source.addEventListener("end", () => this.fail(source, false));
    source.onerror = () => this.fail(source);
  }

  /** The stream is gone: close it and try again after the next backoff step. */
  private fail(source: EventSource, counts = true): void {
    if (source !== this.source) return;
    source.close();
    this.source = null;
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.silenceTimer = null;
    if (this.users === 0) return;
    const attempt = counts ? this.failures++ : 0;
    this.setState(this.failures >= OFFLINE_AFTER_FAILURES ? "offline" : "reconnecting");
    const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!;
    this.retryTimer = setTimeout(() => this.open(), counts ? Math.round(base * (0.8 + Math.random() * 0.4)) : 0);
  }

  private close(): void {
    this.source?.close();
    this.source = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.retryTimer = this.silenceTimer = this.graceTimer = null;
    this.failures = 0;
    this.state = "connecting";
    this.missed = false;
  }
}

/** The server's time when it received the request for the page shown, from the console layout. */
function pageSince(): string | undefined {
  const since = document.querySelector<HTMLElement>("[data-live-since]")?.dataset.liveSince;
  return since && /^\d{1,15}$/.test(since) ? since : undefined;
}

let connection: LiveConnection | null = null;

/** This tab's live connection (created on first use in the browser). */
export function liveConnection(): LiveConnection {
  connection ??= new LiveConnection();
  return connection;
}

let lastRefreshAt = 0;
let pendingRefresh: ReturnType<typeof setTimeout> | null = null;

/**
 * Runs `refresh` (router.refresh) at most once per `intervalMs` for the whole tab: at once when
 * the last one is older, else once at the end of the interval however many changes came in.
 */
export function requestRefresh(refresh: () => void, intervalMs = 500): void {
  const wait = lastRefreshAt + intervalMs - Date.now();
  if (wait <= 0) {
    lastRefreshAt = Date.now();
    refresh();
    return;
  }
  if (pendingRefresh) return;
  pendingRefresh = setTimeout(() => {
    pendingRefresh = null;
    lastRefreshAt = Date.now();
    refresh();
  }, wait);
}
