import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { actorCan, assertCan } from "@/lib/auth/assert-can";
import { AppError } from "@/lib/errors";
import { describeErrorForLog, log } from "@/lib/log";
import { liveHub, sseFrame, type TLiveFlush } from "./live-hub";
import { recheckLiveViewer, type TViewerCheck } from "./recheck-live-viewer";
import { ZLiveQuery, type TLiveEndEvent, type TLiveReadyEvent, type TLiveTopic } from "./schemas";

export const HEARTBEAT_MS = 15_000;
/** Reconnect delay the browser's EventSource uses after a dropped stream. */
export const RETRY_MS = 3_000;
/** A stream ends (and the browser reconnects, authenticating afresh) after this long. */
export const MAX_STREAM_MS = 30 * 60_000;
/** How far the clocks of two console instances (the page's and the stream's) may be apart. */
const CLOCK_SKEW_MS = 1_000;
/** Frames a slow reader may fall behind by before its stream is ended (it reconnects and refreshes). */
const MAX_BACKLOG_FRAMES = 256;

export type TOpenLiveStream = {
  actor: TActor;
  /** The query string, as a record (validated here). */
  query: Record<string, string>;
  /** Aborted when the browser goes away. */
  signal?: AbortSignal;
  heartbeatMs?: number;
  maxStreamMs?: number;
};

/**
 * Opens a Server-Sent Events stream of the live changes the viewer may see: `event: handle` for
 * handles (handles.read, required to open a stream at all), `event: server` for servers
 * (servers.read). Every role that can read handles sees every handle today; a finer visibility
 * rule belongs in `visible()` below, which every frame passes. Frames come from this process's
 * hub (one LISTEN for all streams). A ping every 15 s keeps proxies from closing the stream and
 * re-checks that the viewer is still signed in and allowed; the stream ends when they are not.
 */
export async function openLiveStream(input: TOpenLiveStream): Promise<ReadableStream<Uint8Array>> {
  const { actor } = input;
  assertCan(actor, "handles.read");
  const parsed = ZLiveQuery.safeParse(input.query);
  if (!parsed.success) {
    throw new AppError("BAD_REQUEST", "The live stream query is invalid.", {
      issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(root)", message: i.message })),
    });
  }
  const { topics: requested, since } = parsed.data;
  if (requested?.includes("server")) assertCan(actor, "servers.read");
  const topics: TLiveTopic[] = requested ?? (actorCan(actor, "servers.read") ? ["handle", "server"] : ["handle"]);
  const visible = (topic: TLiveTopic, flush: TLiveFlush) => (topics.includes(topic) ? flush[topic] : undefined);

  const hub = liveHub();
  const heartbeatMs = input.heartbeatMs ?? HEARTBEAT_MS;
  let cleanup = () => undefined as void;

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let closed = false;
        const send = (frame: Uint8Array) => {
          if (closed) return;
          if ((controller.desiredSize ?? 0) < -MAX_BACKLOG_FRAMES) return end("overloaded");
          controller.enqueue(frame);
        };
        const end = (reason: TLiveEndEvent["reason"] | null) => {
          if (closed) return;
          if (reason) controller.enqueue(sseFrame("end", { reason } satisfies TLiveEndEvent));
          cleanup();
          controller.close();
        };

        controller.enqueue(new TextEncoder().encode(`retry: ${RETRY_MS}\n\n`));
        // No frame can reach the hub between this check and `hub.add` below: both run in this one
        // synchronous step, and frames go out from timers and socket callbacks.
        const stale = since !== undefined && hub.mayHaveMissed(topics, since - CLOCK_SKEW_MS);
        controller.enqueue(sseFrame("ready", { live: hub.isLive(), delivery: hub.delivery, topics, heartbeatMs, stale } satisfies TLiveReadyEvent));
        const remove = hub.add({
          onFlush(flush) {
            for (const topic of topics) {
              const part = visible(topic, flush);
              if (part) send(part.frame);
            }
          },
          onState(live) {
            send(sseFrame("state", { live }));
          },
        });

        let checking = false;
        const heartbeat = setInterval(() => {
          send(sseFrame("ping", { t: Date.now() }));
          if (checking) return;
          checking = true;
          recheckLiveViewer(actor)
            .catch((err: unknown): TViewerCheck => {
              // A database hiccup is not a sign-out: keep the stream, check again next time.
              log.warn({ err: describeErrorForLog(err) }, "Live stream: could not re-check the viewer");
              return "ok";
            })
            .then((check) => {
              checking = false;
              if (check !== "ok") end(check);
            });
        }, heartbeatMs);
        const lifetime = setTimeout(() => end("lifetime"), input.maxStreamMs ?? MAX_STREAM_MS);
        const onAbort = () => end(null);
        input.signal?.addEventListener("abort", onAbort, { once: true });

        cleanup = () => {
          if (closed) return;
          closed = true;
          log.debug({ requestId: actor.request.requestId, streams: hub.connections() - 1 }, "Live stream closed");
          remove();
          clearInterval(heartbeat);
          clearTimeout(lifetime);
          input.signal?.removeEventListener("abort", onAbort);
        };
        if (input.signal?.aborted) end(null);
      },
      cancel() {
        // The reader went away (the browser closed the tab or navigated off the console).
        cleanup();
      },
    },
    new CountQueuingStrategy({ highWaterMark: 16 }),
  );
}
