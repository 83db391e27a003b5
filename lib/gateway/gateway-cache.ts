import "server-only";
import { randomUUID } from "node:crypto";
import { getPool } from "@/lib/db/client";
import { pgListener, type PgListener } from "@/lib/db/pg-listener";
import { getEnv } from "@/lib/env";
import { metrics } from "@/lib/metrics/registry";
import { gatewayPeer } from "./gateway-peer";

// The gateway's memory of the rows every agent call reads (its API key and principal, the server,
// its session, the handle, the policy in force), so that a poll does not wait on Postgres.
//
// Nothing here can serve a revoked handle, key, session or disabled server for longer than it
// takes Postgres to deliver one notification:
// - Triggers on those tables (migration gateway_cache_invalidation) NOTIFY `tether_gateway` with
//   the table and row id whenever a column the gateway judges by changes, in the writing
//   transaction: delivered on commit, to every instance.
// - Entries are trusted only while this process's LISTEN connection (lib/db/pg-listener.ts, shared
//   with the console's live updates) is listening on the channel; when it drops, the cache is
//   emptied and every call reads Postgres until it is back.
// - A row read from Postgres is remembered only if no notification arrived since the read began
//   (the epoch), so a read racing a revocation cannot put the old row back.
// - Use cases that revoke call settleGatewayCache() after their commit: it returns once this
//   process has received every notification committed before it, so the very next call in this
//   process is judged on the new state. Other instances receive the same notifications in the
//   same order, within Postgres' delivery time (measured by bench:gateway). The gateway process
//   `npm start` runs beside the console's (gateway-peer.ts) is settled too, over IPC.
// Time-based limits (expiry of handles and keys) are checked on every call against the clock.

export const GATEWAY_CHANNEL = "tether_gateway";

export type TCacheKind = "apiKey" | "server" | "session" | "handle";
type TEntry = { value: unknown; id: string; principalId: string | null };

const LIMITS: Record<TCacheKind, number> = { apiKey: 10_000, server: 1_000, session: 50_000, handle: 200_000 };

class GatewayCache {
  private readonly maps: Record<TCacheKind, Map<string, TEntry>> = { apiKey: new Map(), server: new Map(), session: new Map(), handle: new Map() };
  /** Row id → key, to find an entry from a notification. */
  private readonly ids: Record<TCacheKind, Map<string, string>> = { apiKey: new Map(), server: new Map(), session: new Map(), handle: new Map() };
  private policy: unknown = undefined;
  private epoch = 0;
  private listening = false;
  private readonly unsubscribe: () => void;
  private readonly barriers = new Map<string, () => void>();

  constructor(listener: PgListener) {
    this.unsubscribe = listener.subscribe(
      GATEWAY_CHANNEL,
      (payload) => this.apply(payload),
      (listening) => (listening ? this.trust() : this.drop()),
    );
  }

  /** The epoch to pass to set() for a read starting now, or null when nothing may be cached. */
  readEpoch(): number | null {
    return this.listening ? this.epoch : null;
  }

  get<T>(kind: TCacheKind, key: string): T | undefined {
    if (!this.listening) return undefined;
    const entry = this.maps[kind].get(key);
    metrics().gatewayCacheLookups.inc({ kind, result: entry ? "hit" : "miss" });
    return entry?.value as T | undefined;
  }

  set(kind: TCacheKind, key: string, value: unknown, ids: { id: string; principalId: string | null }, epoch: number | null): void {
    if (epoch === null || !this.listening || epoch !== this.epoch) return;
    const map = this.maps[kind];
    if (map.size >= LIMITS[kind] && !map.has(key)) {
      // Oldest first (a Map iterates in insertion order): enough to keep memory bounded.
      const oldest = map.keys().next().value as string;
      this.forget(kind, oldest);
    }
    map.set(key, { value, ...ids });
    this.ids[kind].set(ids.id, key);
  }

  /** Forgets a row this process has just changed itself (its notification is on the way). */
  forgetRow(kind: TCacheKind, id: string): void {
    this.epoch++;
    this.forgetId(kind, id);
  }

  getPolicy<T>(): T | undefined {
    return this.listening ? (this.policy as T | undefined) : undefined;
  }

  setPolicy(value: unknown, epoch: number | null): void {
    if (epoch !== null && this.listening && epoch === this.epoch) this.policy = value;
  }

  /** Resolves once every notification committed before this call has been applied here. */
  async settle(): Promise<void> {
    if (!this.listening) return;
    const token = randomUUID();
    const received = new Promise<void>((resolve) => this.barriers.set(token, resolve));
    try {
      await getPool().query(`SELECT pg_notify($1, $2)`, [GATEWAY_CHANNEL, `barrier:${token}`]);
      // A lost connection empties the cache, which settles everything as well.
      await Promise.race([received, new Promise((r) => setTimeout(r, 2_000).unref())]);
    } finally {
      this.barriers.delete(token);
    }
  }

  stop(): void {
    this.unsubscribe();
    this.drop();
  }

  private forget(kind: TCacheKind, key: string): void {
    const entry = this.maps[kind].get(key);
    if (!entry) return;
    this.maps[kind].delete(key);
    this.ids[kind].delete(entry.id);
  }

  private forgetId(kind: TCacheKind, id: string): void {
    const key = this.ids[kind].get(id);
    if (key !== undefined) this.forget(kind, key);
  }

  private forgetPrincipal(principalId: string): void {
    for (const kind of ["apiKey", "session", "handle"] as const) {
      for (const [key, entry] of this.maps[kind]) if (entry.principalId === principalId) this.forget(kind, key);
    }
  }

  private drop(): void {
    this.listening = false;
    this.epoch++;
    for (const kind of Object.keys(this.maps) as TCacheKind[]) {
      this.maps[kind].clear();
      this.ids[kind].clear();
    }
    this.policy = undefined;
    for (const resolve of this.barriers.values()) resolve();
  }

  private apply(payload: string): void {
    this.epoch++;
    const [table, id] = payload.split(":", 2) as [string, string | undefined];
    if (table === "barrier") {
      this.barriers.get(id ?? "")?.();
      return;
    }
    if (table === "handle_policy") this.policy = undefined;
    else if (table === "mcp_server") {
      this.maps.server.clear();
      this.ids.server.clear();
    } else if (id === undefined) this.drop();
    else if (table === "handle") this.forgetId("handle", id);
    else if (table === "gateway_session") this.forgetId("session", id);
    else if (table === "api_key") this.forgetId("apiKey", id);
    else if (table === "principal") this.forgetPrincipal(id);
    else this.drop(); // unknown: forget everything rather than guess
  }

  /** The LISTEN is in effect (again): from now on every change reaches apply() before it can be read. */
  private trust(): void {
    this.epoch++;
    this.listening = true;
  }
}

const KEY = Symbol.for("tether.gatewayCache");
type THolder = Record<symbol, GatewayCache | null | undefined>;

/**
 * This process's gateway cache, or null when caching is off: TETHER_GATEWAY_CACHE=false, or the
 * embedded database (whose single backend cannot deliver notifications between processes).
 */
export function gatewayCache(): GatewayCache | null {
  const holder = globalThis as unknown as THolder;
  if (holder[KEY] !== undefined) return holder[KEY];
  const env = getEnv();
  holder[KEY] = env.TETHER_GATEWAY_CACHE && !env.TETHER_EMBEDDED && env.DATABASE_URL ? new GatewayCache(pgListener()) : null;
  return holder[KEY];
}

/**
 * After a commit that revokes or changes what the gateway judges by: see the note at the top.
 * The gateway process beside this one, if any (gateway-peer.ts), is settled as well.
 */
export async function settleGatewayCache(): Promise<void> {
  const holder = globalThis as unknown as THolder;
  await Promise.all([holder[KEY]?.settle(), gatewayPeer()?.settle()]);
}

/** Stops this process's cache (tests and shutdown); the next gatewayCache() starts a new one. */
export function stopGatewayCache(): void {
  const holder = globalThis as unknown as THolder;
  holder[KEY]?.stop();
  holder[KEY] = undefined;
}

/** `work` (a committed transaction of a use case that revokes or ends something), then settleGatewayCache(). */
export async function settledAfter<T>(work: Promise<T>): Promise<T> {
  const result = await work;
  await settleGatewayCache();
  return result;
}
