import "server-only";
import pg from "pg";
import { getPool } from "@/lib/db/client";
import { getEnv } from "@/lib/env";
import { describeErrorForLog, log } from "@/lib/log";

// One Postgres LISTEN connection per process, shared by everything that needs notifications (the
// gateway cache on `tether_gateway`, the console's live updates on `tether_live`).
//
// - A dedicated pg.Client (not from the pool: a pooled connection is handed to other work and its
//   LISTENs would be lost or leak). It opens with the first subscription and closes with the last.
// - A subscription is "listening" only once its channel's LISTEN has been executed on the current
//   connection; when the connection drops, every subscription hears `false` at once (anything sent
//   meanwhile is lost, so callers must not trust what they learned from notifications), and `true`
//   again after the reconnect (with backoff) has re-issued every LISTEN.
// - With the embedded database (PGlite behind a socket) one backend serves every socket, and a
//   notification comes back on the socket whose transaction committed it, never on another: a
//   dedicated connection would hear nothing. There the LISTEN is executed through the pool, and the
//   notifications are picked up from the pool's own connections (all of this process's commits go
//   through them), so changes made by this process are delivered in-process; changes made by
//   another process on the same embedded database are not.

export type TPgNotificationHandler = (payload: string) => void;
export type TPgListenerStateHandler = (listening: boolean) => void;
type TSubscription = { channel: string; onNotification: TPgNotificationHandler; onState: TPgListenerStateHandler | undefined; listening: boolean };

/** Delays between reconnect attempts (the last repeats), each ±20 %. */
const RECONNECT_MS = [250, 500, 1_000, 2_000, 5_000];
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

export class PgListener {
  private readonly subscriptions = new Set<TSubscription>();
  /** Channels whose LISTEN is in effect on the current connection. */
  private readonly active = new Set<string>();
  private client: pg.Client | null = null;
  private connected = false;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private embeddedAttached = false;
  private readonly embeddedClients = new WeakSet<pg.PoolClient>();

  constructor(
    private readonly connectionString: string,
    private readonly embedded: boolean,
  ) {}

  /**
   * Calls `onNotification` with each payload sent on `channel`, and `onState` whenever the
   * subscription starts or stops listening (true once its LISTEN is in effect). Returns the
   * unsubscribe function; the connection closes when the last subscription goes.
   */
  subscribe(channel: string, onNotification: TPgNotificationHandler, onState?: TPgListenerStateHandler): () => void {
    if (!CHANNEL.test(channel)) throw new Error(`Invalid notification channel name: ${channel}`);
    const sub: TSubscription = { channel, onNotification, onState, listening: false };
    this.subscriptions.add(sub);
    if (this.embedded) void this.listenEmbedded(sub);
    else if (!this.client && !this.reconnectTimer) void this.connect();
    else if (this.connected) void this.listen(this.client!, sub);
    return () => this.unsubscribe(sub);
  }

  /** Whether the connection is up (every subscribed channel is listening, or about to). */
  isConnected(): boolean {
    return this.connected;
  }

  /** Whether notifications on `channel` are being received right now. */
  isListening(channel: string): boolean {
    return this.connected && this.active.has(channel);
  }

  /** Ends the connection and every subscription (shutdown and tests). */
  stop(): void {
    for (const sub of [...this.subscriptions]) this.unsubscribe(sub);
  }

  private unsubscribe(sub: TSubscription): void {
    if (!this.subscriptions.delete(sub)) return;
    this.setState(sub, false);
    if ([...this.subscriptions].some((s) => s.channel === sub.channel)) return;
    this.active.delete(sub.channel);
    if (this.subscriptions.size > 0) {
      if (this.connected && !this.embedded) void this.client?.query(`UNLISTEN ${pg.escapeIdentifier(sub.channel)}`).catch(() => undefined);
      return;
    }
    // Nothing left to hear: close, and stop trying to reconnect.
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const client = this.client;
    this.client = null;
    this.connected = false;
    this.attempts = 0;
    if (client) void client.end().catch(() => undefined);
  }

  private setState(sub: TSubscription, listening: boolean): void {
    if (sub.listening === listening) return;
    sub.listening = listening;
    try {
      sub.onState?.(listening);
    } catch (err) {
      log.error({ err: describeErrorForLog(err), channel: sub.channel }, "A notification subscriber failed on a state change");
    }
  }

  private dispatch(channel: string, payload: string): void {
    for (const sub of this.subscriptions) {
      if (sub.channel !== channel || !sub.listening) continue;
      try {
        sub.onNotification(payload);
      } catch (err) {
        log.error({ err: describeErrorForLog(err), channel }, "A notification subscriber failed");
      }
    }
  }

  /** Issues the channel's LISTEN on `client` (once per channel) and marks the subscription listening. */
  private async listen(client: pg.Client, sub: TSubscription): Promise<void> {
    try {
      if (!this.active.has(sub.channel)) {
        await client.query(`LISTEN ${pg.escapeIdentifier(sub.channel)}`);
        if (this.client !== client || !this.connected) return;
        this.active.add(sub.channel);
      }
      if (this.subscriptions.has(sub)) this.setState(sub, true);
    } catch (err) {
      // The connection broke under the LISTEN: its error handler reconnects.
      log.debug({ err: describeErrorForLog(err), channel: sub.channel }, "LISTEN failed");
    }
  }

  private async connect(): Promise<void> {
    this.reconnectTimer = null;
    if (this.subscriptions.size === 0) return;
    const client = new pg.Client({ connectionString: this.connectionString, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    this.client = client;
    let lostAlready = false;
    const lost = (err?: Error) => {
      if (lostAlready || this.client !== client) return;
      lostAlready = true;
      this.client = null;
      const wasConnected = this.connected;
      this.connected = false;
      this.active.clear();
      for (const sub of this.subscriptions) this.setState(sub, false);
      void client.end().catch(() => undefined);
      if (this.subscriptions.size === 0) return;
      if (err && (wasConnected || this.attempts === 0)) log.warn({ err: describeErrorForLog(err) }, "Lost the Postgres LISTEN connection; reconnecting");
      const base = RECONNECT_MS[Math.min(this.attempts++, RECONNECT_MS.length - 1)]!;
      this.reconnectTimer = setTimeout(() => void this.connect(), Math.round(base * (0.8 + Math.random() * 0.4)));
      this.reconnectTimer.unref();
    };
    client.on("error", lost);
    client.on("end", () => lost());
    client.on("notification", (msg) => this.dispatch(msg.channel, msg.payload ?? ""));
    try {
      await client.connect();
      if (this.client !== client) return;
      this.connected = true;
      for (const channel of new Set([...this.subscriptions].map((s) => s.channel))) {
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        if (this.client !== client) return;
        this.active.add(channel);
      }
      this.attempts = 0;
      for (const sub of this.subscriptions) if (this.active.has(sub.channel)) this.setState(sub, true);
    } catch (err) {
      lost(err as Error);
    }
  }

  /** Embedded database: LISTEN through the pool and hear the pool's own connections (see the note at the top). */
  private async listenEmbedded(sub: TSubscription): Promise<void> {
    const pool = getPool();
    if (!this.embeddedAttached) {
      this.embeddedAttached = true;
      // Every query checks a connection out first, so each connection that can carry a commit
      // back is seen here before its first notification.
      pool.on("acquire", (client) => {
        if (this.embeddedClients.has(client)) return;
        this.embeddedClients.add(client);
        client.on("notification", (msg) => this.dispatch(msg.channel, msg.payload ?? ""));
      });
    }
    try {
      if (!this.active.has(sub.channel)) {
        await pool.query(`LISTEN ${pg.escapeIdentifier(sub.channel)}`);
        this.active.add(sub.channel);
      }
      this.connected = true;
      if (this.subscriptions.has(sub)) this.setState(sub, true);
    } catch (err) {
      log.warn({ err: describeErrorForLog(err), channel: sub.channel }, "LISTEN on the embedded database failed; live notifications are off");
    }
  }
}

const KEY = Symbol.for("tether.pgListener");
type THolder = Record<symbol, PgListener | undefined>;

/**
 * This process's LISTEN connection (on globalThis, like getPool, so Next's bundles and dev
 * reloads share one), for DATABASE_URL. Throws when DATABASE_URL is not set.
 */
export function pgListener(): PgListener {
  const holder = globalThis as unknown as THolder;
  if (holder[KEY]) return holder[KEY];
  const env = getEnv();
  if (!env.DATABASE_URL) throw new Error("DATABASE_URL is not set.");
  holder[KEY] = new PgListener(env.DATABASE_URL, env.TETHER_EMBEDDED);
  return holder[KEY];
}

/** Closes this process's LISTEN connection; the next pgListener() opens a new one (tests, shutdown). */
export function stopPgListener(): void {
  const holder = globalThis as unknown as THolder;
  holder[KEY]?.stop();
  holder[KEY] = undefined;
}
