import "server-only";
import { pgListener } from "@/lib/db/pg-listener";
import { getEnv } from "@/lib/env";
import { log } from "@/lib/log";
import {
  LIVE_CHANNEL,
  LIVE_TOPICS,
  ZLiveNotification,
  type TLiveHandleBulk,
  type TLiveHandleChange,
  type TLiveHandleEvent,
  type TLiveServerChange,
  type TLiveServerEvent,
  type TLiveTopic,
} from "./schemas";

// This process's fan-out of live updates: ONE subscription to `tether_live` on the process's LISTEN
// connection (lib/db/pg-listener.ts), however many browsers are connected. Notifications are
// coalesced before they are pushed: the first change after a quiet spell goes out at once (that
// keeps status changes well under a second from commit to browser), later ones are gathered for
// COALESCE_MS and sent as one frame per topic, a handle mentioned twice once (its latest state),
// and past MAX_CHANGES_PER_FRAME the rest folds into a count. A bulk revoke of 100,000 handles is
// one summary notification per statement from the trigger and at most one frame per window here,
// so browsers see a handful of frames, not 100,000. Each frame is serialised once for everyone.

export const COALESCE_MS = 100;
export const MAX_CHANGES_PER_FRAME = 100;
/** How long the subscription outlives its last stream (a reload should not close and reopen it). */
const LINGER_MS = 10_000;

/** One flush: the frame of each topic that had changes, with its data for callers that filter. */
export type TLiveFlush = Partial<Record<TLiveTopic, { frame: Uint8Array; data: TLiveHandleEvent | TLiveServerEvent }>>;
export type TLiveSink = {
  /** New changes. */
  onFlush(flush: TLiveFlush): void;
  /** This instance stopped (false) or started again (true) receiving notifications. */
  onState(live: boolean): void;
};

const encoder = new TextEncoder();

/** A Server-Sent Events frame. `data` is JSON on one line, so no line of it can end the frame early. */
export function sseFrame(event: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

class LiveHub {
  private readonly sinks = new Set<TLiveSink>();
  private unsubscribe: (() => void) | null = null;
  private live = false;
  private lingerTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private lastFlushAt = 0;
  /** When this instance last began receiving notifications (Date.now()); null while it does not. */
  private liveSince: number | null = null;
  /** When each topic last went out in a frame (Date.now()). */
  private readonly lastFrameAt: Partial<Record<TLiveTopic, number>> = {};
  private handles = new Map<string, TLiveHandleChange>();
  private bulk: TLiveHandleBulk | null = null;
  private servers = new Map<string, TLiveServerChange>();
  readonly delivery: "notify" | "in-process" = getEnv().TETHER_EMBEDDED ? "in-process" : "notify";

  isLive(): boolean {
    return this.live;
  }

  /**
   * Whether a change of these topics may have committed since `from` (Date.now() clock) that a
   * stream added now will not be sent: this instance was not receiving notifications for all of
   * that time, or it has sent a frame of one of them since (to the streams open then). Changes it
   * has gathered but not yet sent go to a stream added now as well.
   */
  mayHaveMissed(topics: readonly TLiveTopic[], from: number): boolean {
    if (this.liveSince === null || this.liveSince > from) return true;
    return topics.some((topic) => (this.lastFrameAt[topic] ?? -Infinity) >= from);
  }

  connections(): number {
    return this.sinks.size;
  }

  add(sink: TLiveSink): () => void {
    this.sinks.add(sink);
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    this.unsubscribe ??= pgListener().subscribe(
      LIVE_CHANNEL,
      (payload) => this.receive(payload),
      (live) => this.setLive(live),
    );
    return () => this.remove(sink);
  }

  stop(): void {
    this.sinks.clear();
    this.close();
  }

  private remove(sink: TLiveSink): void {
    if (!this.sinks.delete(sink) || this.sinks.size > 0 || this.lingerTimer) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = null;
      if (this.sinks.size === 0) this.close();
    }, LINGER_MS);
    this.lingerTimer.unref();
  }

  private close(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.lingerTimer = this.flushTimer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.live = false;
    this.liveSince = null;
  }

  private setLive(live: boolean): void {
    if (live === this.live) return;
    this.live = live;
    this.liveSince = live ? Date.now() : null;
    if (!live) {
      // What was gathered may be incomplete now; browsers refresh on their own while down.
      this.handles.clear();
      this.servers.clear();
      this.bulk = null;
    }
    for (const sink of this.sinks) sink.onState(live);
  }

  private receive(payload: string): void {
    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch {
      json = undefined;
    }
    const parsed = ZLiveNotification.safeParse(json);
    if (!parsed.success) {
      log.debug({ length: payload.length }, "Ignored a malformed live notification");
      return;
    }
    const n = parsed.data;
    if (n.type === "server") {
      const { type: _type, ...change } = n;
      this.servers.set(change.serverId, change);
    } else if (n.change === "bulk") {
      this.addBulk({ count: n.count, kinds: n.kinds ?? [], serverIds: n.serverIds ?? [], moreServers: n.moreServers ?? false });
    } else {
      const { type: _type, ...change } = n;
      this.handles.delete(change.accessor); // re-inserted last: frames list changes in commit order
      this.handles.set(change.accessor, change);
      if (this.handles.size > MAX_CHANGES_PER_FRAME) {
        const oldest = this.handles.values().next().value!;
        this.handles.delete(oldest.accessor);
        this.addBulk({ count: 1, kinds: [oldest.change], serverIds: [oldest.serverId], moreServers: false });
      }
    }
    this.schedule();
  }

  private addBulk(add: TLiveHandleBulk): void {
    const prev = this.bulk ?? { count: 0, kinds: [], serverIds: [], moreServers: false };
    const serverIds = [...new Set([...prev.serverIds, ...add.serverIds])];
    this.bulk = {
      count: prev.count + add.count,
      kinds: [...new Set([...prev.kinds, ...add.kinds])].slice(0, 10),
      serverIds: serverIds.slice(0, 20),
      moreServers: prev.moreServers || add.moreServers || serverIds.length > 20,
    };
  }

  private schedule(): void {
    if (this.flushTimer) return;
    const wait = Math.max(0, this.lastFlushAt + COALESCE_MS - Date.now());
    if (wait === 0) {
      // Quiet until now: send this one at once, and gather whatever follows for a window.
      this.flush();
      return;
    }
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, wait);
    this.flushTimer.unref();
  }

  private flush(): void {
    this.lastFlushAt = Date.now();
    const flush: TLiveFlush = {};
    if (this.handles.size > 0 || this.bulk) {
      const data: TLiveHandleEvent = { changes: [...this.handles.values()], bulk: this.bulk };
      flush.handle = { frame: sseFrame("handle", data), data };
    }
    if (this.servers.size > 0) {
      const data: TLiveServerEvent = { changes: [...this.servers.values()] };
      flush.server = { frame: sseFrame("server", data), data };
    }
    this.handles = new Map();
    this.servers = new Map();
    this.bulk = null;
    if (!flush.handle && !flush.server) return;
    for (const topic of LIVE_TOPICS) if (flush[topic]) this.lastFrameAt[topic] = this.lastFlushAt;
    for (const sink of this.sinks) sink.onFlush(flush);
  }
}

const KEY = Symbol.for("tether.liveHub");
type THolder = Record<symbol, LiveHub | undefined>;

/** This process's live-update hub (on globalThis: Next's route bundles share one). */
export function liveHub(): LiveHub {
  const holder = globalThis as unknown as THolder;
  holder[KEY] ??= new LiveHub();
  return holder[KEY];
}

/** Drops every stream's subscription and the hub's LISTEN (tests, shutdown). */
export function stopLiveHub(): void {
  const holder = globalThis as unknown as THolder;
  holder[KEY]?.stop();
  holder[KEY] = undefined;
}
