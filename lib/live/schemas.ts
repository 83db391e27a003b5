// Live updates: what Postgres announces on `tether_live` (migration 20261126064000_live_updates),
// what the console streams to browsers (GET /api/live), and the query that opens a stream.
// Pure module: the browser side (components/live) uses the types too.
import { z } from "zod";

export const LIVE_CHANNEL = "tether_live";
export const LIVE_TOPICS = ["handle", "server"] as const;
export type TLiveTopic = (typeof LIVE_TOPICS)[number];

const ZUuid = z.guid();
const ZAccessor = z.string().regex(/^hdl_[A-Za-z0-9_-]{1,120}$/);

/** One handle whose visible state changed: issued, status, message, revoked, cancel, expired. */
export const ZLiveHandleChange = z.object({
  change: z.enum(["issued", "status", "message", "revoked", "cancel", "expired"]),
  accessor: ZAccessor,
  status: z.string().max(40),
  revoked: z.boolean(),
  serverId: ZUuid,
});
export type TLiveHandleChange = z.infer<typeof ZLiveHandleChange>;

/** Many handles changed in one statement (or one coalescing window): how many, how, and where. */
export const ZLiveHandleBulk = z.object({
  count: z.number().int().nonnegative(),
  kinds: z.array(z.string().max(20)).max(10),
  serverIds: z.array(ZUuid).max(20),
  moreServers: z.boolean(),
});
export type TLiveHandleBulk = z.infer<typeof ZLiveHandleBulk>;

export const ZLiveServerChange = z.object({
  change: z.enum(["registered", "health", "enabled", "polling", "removed"]),
  serverId: ZUuid,
  health: z.enum(["unknown", "up", "degraded", "down"]),
  enabled: z.boolean(),
  pollingPaused: z.boolean(),
  removed: z.boolean(),
});
export type TLiveServerChange = z.infer<typeof ZLiveServerChange>;

/** A notification payload as the triggers write it. Anything else on the channel is ignored. */
export const ZLiveNotification = z.union([
  z.object({ type: z.literal("handle"), change: z.literal("bulk"), count: z.number().int().nonnegative(), kinds: z.array(z.string().max(20)).max(10).nullable(), serverIds: z.array(ZUuid).max(20).nullable(), moreServers: z.boolean().nullable() }),
  ZLiveHandleChange.extend({ type: z.literal("handle") }),
  ZLiveServerChange.extend({ type: z.literal("server") }),
]);
export type TLiveNotification = z.infer<typeof ZLiveNotification>;

/** The data of an `event: handle` frame: what changed since the previous frame. */
export type TLiveHandleEvent = { changes: TLiveHandleChange[]; bulk: TLiveHandleBulk | null };
/** The data of an `event: server` frame. */
export type TLiveServerEvent = { changes: TLiveServerChange[] };
/**
 * `event: ready` opens every stream; `event: state` follows whenever this instance's LISTEN
 * connection goes down (live false: changes may be missed, refresh periodically) or comes back
 * (live true: refresh once to catch up). `stale`: a change may have committed since `since` that
 * the page the browser shows does not hold and no frame of this stream will bring (refresh once
 * when live); always false without `since`.
 */
export type TLiveReadyEvent = { live: boolean; delivery: "notify" | "in-process"; topics: TLiveTopic[]; heartbeatMs: number; stale: boolean };
export type TLiveStateEvent = { live: boolean };
/** The last frame of a stream the server ends: the browser reconnects (or signs in again). */
export type TLiveEndEvent = { reason: "signed-out" | "forbidden" | "overloaded" | "lifetime" };

/**
 * GET /api/live?topics=handle,server&since=1795706400000 — which kinds of change to stream
 * (default: all the viewer may see), and when the server received the request for the page the
 * browser shows (epoch milliseconds, the server's own clock, from the page), so the stream can
 * say whether a change may have committed since that the page does not hold.
 */
export const ZLiveQuery = z
  .object({
    since: z
      .string()
      .regex(/^\d{1,15}$/, "since must be a time in whole milliseconds since 1970, as the page was given it.")
      .transform(Number)
      .optional(),
    topics: z
      .string()
      .max(100)
      .optional()
      .transform((value, ctx) => {
        if (value === undefined || value === "") return undefined;
        const topics = [...new Set(value.split(",").map((t) => t.trim()))];
        const unknown = topics.filter((t) => !(LIVE_TOPICS as readonly string[]).includes(t));
        if (unknown.length) {
          ctx.addIssue({ code: "custom", message: `Unknown topic ${unknown.map((t) => JSON.stringify(t.slice(0, 20))).join(", ")}; use ${LIVE_TOPICS.join(", ")}.` });
          return z.NEVER;
        }
        return topics as TLiveTopic[];
      }),
  })
  .strict();
export type TLiveQuery = z.infer<typeof ZLiveQuery>;
