// Live updates on the embedded database (`npm start` without DATABASE_URL): PGlite serves every
// socket from one backend and sends a notification back on the socket whose commit caused it, so
// a dedicated LISTEN connection would hear nothing. The listener (lib/db/pg-listener.ts) LISTENs
// through the pool and hears the pool's own connections instead: every change the console process
// commits (its pages, gateway and workers) reaches its streams in-process. A change committed by
// another process's connection does not, which the README says.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createParser } from "eventsource-parser";
import pg from "pg";
import { systemActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { stopPgListener } from "@/lib/db/pg-listener";
import { applyMigrations } from "@/lib/db/schema-engine";
import { startEmbeddedPostgres, type TEmbeddedPostgres } from "@/lib/embedded/start-embedded-postgres";
import { resetEnvCache } from "@/lib/env";
import { applyObservedStatus } from "@/lib/handles/apply-observed-status";
import { stopLiveHub } from "@/lib/live/live-hub";
import { openLiveStream } from "@/lib/live/open-live-stream";
import type { TLiveHandleEvent } from "@/lib/live/schemas";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { insertHandle } from "../factories/handles";
import { createPrincipal, userActor } from "../factories/principals";
import { setUpTestSecrets } from "./support/env";

setUpTestSecrets();

let dir: string;
let embedded: TEmbeddedPostgres;
const previous = { url: process.env.DATABASE_URL, embedded: process.env.TETHER_EMBEDDED };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "tether-live-"));
  embedded = await startEmbeddedPostgres(dir);
  await applyMigrations({ connectionString: embedded.connectionString });
  Object.assign(process.env, { DATABASE_URL: embedded.connectionString, TETHER_EMBEDDED: "true" });
  resetEnvCache();
  await ensureDefaultPolicy(getPrisma(), systemActor("test", "live-embedded"));
}, 180_000);

afterAll(async () => {
  stopLiveHub();
  stopPgListener();
  await getPrisma().$disconnect();
  await embedded?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  process.env.DATABASE_URL = previous.url;
  if (previous.embedded === undefined) delete process.env.TETHER_EMBEDDED;
  else process.env.TETHER_EMBEDDED = previous.embedded;
  resetEnvCache();
});

/** `at`: when the event came off the stream (performance.now()), to time delivery from a commit. */
type TEvent = { event: string; data: unknown; at: number };

function read(stream: ReadableStream<Uint8Array>) {
  const events: TEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event ?? "message", data: JSON.parse(e.data) as unknown, at: performance.now() }) });
  const reader = (stream as ReadableStream<BufferSource>).pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      parser.feed(value);
    }
  })();
  const until = async (match: (e: TEvent) => boolean, timeoutMs: number) => {
    for (const started = Date.now(); Date.now() - started < timeoutMs; await new Promise((r) => setTimeout(r, 10))) {
      const found = events.find(match);
      if (found) return found;
    }
    return undefined;
  };
  return { events, until };
}

describe("live updates on the embedded database", () => {
  it("delivers this process's commits in-process, within a second", async () => {
    const abort = new AbortController();
    const stream = read(await openLiveStream({ actor: userActor("viewer"), query: {}, signal: abort.signal }));
    const ready = await stream.until((e) => e.event === "ready", 5_000);
    expect(ready?.data).toMatchObject({ delivery: "in-process" });
    expect(await stream.until((e) => (e.event === "ready" || e.event === "state") && (e.data as { live: boolean }).live, 5_000)).toBeDefined();

    // Each delivery is timed from the moment its commit has returned to the moment the event came
    // off the stream. The wait is longer than the claim, so a slow run fails on the latency it
    // measured rather than on "no event".
    const prisma = getPrisma();
    const owner = await createPrincipal(prisma, { kind: "service", email: null });
    const server = await prisma.mcpServer.create({ data: { slug: `emb-${randomUUID().slice(0, 8)}`, name: "embedded", url: "http://127.0.0.1:9/mcp", audience: "http://t/mcp/x" } });
    const handle = await insertHandle(prisma, { serverId: server.id, principalId: owner.id });
    const inserted = performance.now();
    const issued = (e: TEvent) => e.event === "handle" && (e.data as TLiveHandleEvent).changes.some((c) => c.accessor === handle.accessor && c.change === "issued");
    const issuedEvent = await stream.until(issued, 5_000);
    expect(issuedEvent, "the handle's issue was not delivered within 5 s").toBeDefined();
    expect(issuedEvent!.at - inserted).toBeLessThan(1_000);

    await prisma.$transaction((tx) =>
      applyObservedStatus(tx, { handle, observed: { status: "completed" }, source: "poller", requestId: `req-${randomUUID()}`, countUse: false }),
    );
    const committed = performance.now();
    const completed = (e: TEvent) => e.event === "handle" && (e.data as TLiveHandleEvent).changes.some((c) => c.accessor === handle.accessor && c.status === "completed");
    const completedEvent = await stream.until(completed, 5_000);
    expect(completedEvent, "the status change was not delivered within 5 s").toBeDefined();
    expect(completedEvent!.at - committed).toBeLessThan(1_000);

    // Another process's connection: its commit's notification goes back to that connection only.
    const outsider = new pg.Client({ connectionString: embedded.connectionString });
    await outsider.connect();
    try {
      await outsider.query(`UPDATE handle SET revoked_at = now(), revoke_reason = 'outside', revoke_trigger = 'manual' WHERE id = $1::uuid`, [handle.id]);
    } finally {
      await outsider.end();
    }
    const revoked = (e: TEvent) => e.event === "handle" && (e.data as TLiveHandleEvent).changes.some((c) => c.accessor === handle.accessor && c.revoked);
    expect(await stream.until(revoked, 500)).toBeUndefined();
    abort.abort();
  });
});
