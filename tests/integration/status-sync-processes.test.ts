// Two real worker processes (scripts/worker.ts, started exactly as `npm run worker` starts it)
// share the status polling of 1,000 live handles of real upstream tasks on two demo upstreams,
// and one of them is killed with SIGKILL. The tasks are created upstream by an official SDK
// client and their handles written in one statement, as the gateway would have minted them.
// Every poll is counted where it lands: a relay in front of each upstream records each
// `tasks/get` (task id, start, end, and which worker process sent it, from the kernel's socket
// table), so the test sees exactly who polled which handle when. It checks that both processes
// share the work, that no handle is ever polled by both at once or twice for one due time, that
// the killed process's claims stay untouched until their lease (read from the database) runs out,
// and that the survivor then polls every handle, its dead peer's share included, and nothing is
// lost. Every wait polls for its condition, with room for a loaded 2-core machine.
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { systemActor } from "@/lib/auth/actor";
import { encryptSecret, keyedHash } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import type { Prisma } from "@/lib/db/generated/client";
import { encryptHandleToken, handleTokenHash, newAccessor, newHandleToken, upstreamTaskContext, upstreamTaskIdHash } from "@/lib/gateway/handle-token";
import { upstreamSessionContext } from "@/lib/gateway/start-gateway-session";
import { POLL_LEASE_SECONDS } from "@/lib/handles/sync-handle-statuses";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { actorFor, createPrincipal } from "../factories/principals";
import { setUpTestSecrets } from "./support/env";
import { createAgent, createTask, registerServer, startDemoServer } from "./support/gateway";
import { setUpOwnDatabase } from "./support/own-database";

setUpOwnDatabase();
setUpTestSecrets();

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SERVERS = 2;
/** Upstream sessions per server: the demo upstream allows 100 active tasks per session. */
const SESSIONS_PER_SERVER = 5;
const TASKS_PER_SESSION = 100;

const HANDLES = SERVERS * SESSIONS_PER_SERVER * TASKS_PER_SESSION;
/**
 * Each handle is due every 10 s (±10 % jitter): about 100 polls a second, a tasks/get each (the
 * unchanged answers of a round are written in one statement), which one process alone keeps up
 * with on a loaded 2-core machine.
 */
const POLL_MS = 10_000;
/** Added to every tasks/get at the relays, so a worker is mid-round (holding leases) much of the time. */
const POLL_LATENCY_MS = 20;
/** Tasks created at once per upstream session. */
const CREATE_CONCURRENCY = 4;
/** Two polls of one handle closer than this were not two due times: it was polled twice. */
const MIN_GAP_MS = 3_000;
/** Room for a loaded machine: how long after its lease ran out an orphaned handle may wait to be polled again. */
const PICKUP_SLACK_MS = 25_000;

type TWorkerName = "A" | "B";
type TPoll = { taskId: string; start: number; end: number | null; worker: TWorkerName | null };
type TRelay = { url: string; close(): Promise<void> };

// Indexed as they come: the checks below run while the relays (in this process) serve the polls.
const polls: TPoll[] = [];
const pollsByTask = new Map<string, TPoll[]>();
const polledBy: Record<TWorkerName, Set<string>> = { A: new Set(), B: new Set() };
const inFlight = new Map<string, TPoll[]>();
const overlaps: Array<{ taskId: string; at: number }> = [];
const workers = new Map<TWorkerName, ChildProcess>();
const relays: TRelay[] = [];
const upstreams: Array<{ close(): Promise<void> }> = [];
/** The SDK clients whose upstream sessions hold the tasks: open until the end, or the tasks go with them. */
const clients: Client[] = [];
/** Upstream task id → handle id. */
const handleOfTask = new Map<string, string>();

// ---- which process sent a request: its socket's local port, looked up in /proc -----------------

/** Local port of every TCP socket on this machine, by socket inode. */
function portsByInode(): Map<string, number> {
  const out = new Map<string, number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      out.set(cols[9]!, parseInt(cols[1]!.split(":")[1]!, 16));
    }
  }
  return out;
}

/** Whether process `pid` holds a socket whose local port is `port`. */
function holdsPort(pid: number, port: number, ports: Map<string, number>): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode && ports.get(inode) === port) return true;
  }
  return false;
}

/**
 * The worker process that owns the client end of a connection from `port`, if it is one of ours.
 * A connection no live process holds (not a worker, not this test) came from a worker that has
 * died since it sent its request: under load the relay may read a request after the test has
 * already seen the sender's exit.
 */
function workerOfPort(port: number): TWorkerName | null {
  const ports = portsByInode();
  for (const [name, child] of workers) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
    if (holdsPort(child.pid, port, ports)) return name;
  }
  if (holdsPort(process.pid, port, ports)) return null;
  for (const [name, child] of workers) if (child.exitCode !== null || child.signalCode !== null) return name;
  return null;
}

// ---- a counting relay in front of each upstream ---------------------------------------------

async function startRelay(target: string): Promise<TRelay> {
  const upstream = new URL(target);
  const owners = new WeakMap<Socket, TWorkerName | null>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      let poll: TPoll | null = null;
      if (req.method === "POST" && body.length > 0) {
        const message = JSON.parse(body.toString()) as { method?: string; params?: { taskId?: unknown } };
        if (message.method === "tasks/get" && typeof message.params?.taskId === "string") {
          const taskId = message.params.taskId;
          // Resolved once per connection, while both of its ends exist.
          if (!owners.has(req.socket)) owners.set(req.socket, workerOfPort(req.socket.remotePort!));
          poll = { taskId, start: Date.now(), end: null, worker: owners.get(req.socket) ?? null };
          polls.push(poll);
          pollsByTask.set(taskId, [...(pollsByTask.get(taskId) ?? []), poll]);
          if (poll.worker) polledBy[poll.worker].add(taskId);
          const running = inFlight.get(taskId) ?? [];
          if (running.length > 0) overlaps.push({ taskId, at: poll.start });
          inFlight.set(taskId, [...running, poll]);
        }
      }
      const done = () => {
        if (!poll || poll.end !== null) return;
        poll.end = Date.now();
        inFlight.set(poll.taskId, (inFlight.get(poll.taskId) ?? []).filter((p) => p !== poll));
      };
      const forward = () => {
        const out = httpRequest(
          { host: upstream.hostname, port: upstream.port, path: upstream.pathname, method: req.method, headers: { ...req.headers, host: upstream.host } },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            answer.on("end", done);
          },
        );
        out.on("error", () => res.destroy());
        out.end(body);
      };
      res.on("close", done);
      if (poll) setTimeout(forward, POLL_LATENCY_MS);
      else forward();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// ---- worker processes -------------------------------------------------------------------------

/** `npm run worker`, as package.json spells it, pointed at this file's database. */
function startWorker(name: TWorkerName, signingKey: string): { ready: Promise<void>; output: () => string } {
  const [command, ...args] = (JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8")) as { scripts: { worker: string } }).scripts.worker.split(" ");
  expect(command).toBe("node");
  const inherited = ["PATH", "HOME", "DATABASE_URL", "TETHER_HMAC_KEY", "TETHER_ENCRYPTION_KEY", "TETHER_SESSION_SECRET", "TETHER_DB_ROLE"];
  const env: Record<string, string> = { TETHER_AUDIT_SIGNING_KEY: signingKey, LOG_LEVEL: "info" };
  for (const key of inherited) if (process.env[key]) env[key] = process.env[key];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, env: env as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] });
  workers.set(name, child);
  let output = "";
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Tether workers running")) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code: number | null, signal: string | null) => reject(new Error(`worker ${name} exited (${code ?? signal}) before it was ready:\n${output.slice(-2000)}`)));
  });
  return { ready, output: () => output };
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 100, state: () => unknown = () => ""): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      const [handles] = await getPrisma().$queryRaw<unknown[]>`
        SELECT count(*)::int AS total, count(*) FILTER (WHERE next_poll_at > now())::int AS "notDue", count(*) FILTER (WHERE poll_lease_until > now())::int AS leased,
               count(*) FILTER (WHERE last_polled_at IS NULL)::int AS "neverPolled", count(*) FILTER (WHERE status NOT IN ('working', 'input_required'))::int AS "notRunning",
               count(*) FILTER (WHERE revoked_at IS NOT NULL OR expires_at <= now())::int AS "notLive", max(poll_failures)::int AS "maxFailures",
               (SELECT count(*)::int FROM handle h2 LEFT JOIN gateway_session g ON g.id = h2.session_id WHERE g.id IS NULL) AS "noSession"
          FROM handle`;
      throw new Error(`timed out waiting for ${what} ${JSON.stringify({ ...(state() as object), handles })}`);
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

const pollsOf = (taskId: string) => pollsByTask.get(taskId) ?? [];

// ---- the test ---------------------------------------------------------------------------------

/** Opens an upstream session on a demo server with the official SDK client and creates its tasks there. */
async function createUpstreamTasks(demo: { url: string; bearerToken: string }): Promise<{ sessionId: string; protocolVersion: string | null; taskIds: string[] }> {
  const client = new Client({ name: "tether-sync-processes-test", version: "0.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(demo.url), { requestInit: { headers: { Authorization: `Bearer ${demo.bearerToken}` } } });
  await client.connect(transport);
  clients.push(client);
  const taskIds: string[] = [];
  // Tasks that outlive the test and stay quiet (no status change, so no early-poll hints).
  for (let i = 0; i < TASKS_PER_SESSION; i += CREATE_CONCURRENCY) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(CREATE_CONCURRENCY, TASKS_PER_SESSION - i) }, () => createTask(client, "long_task", { seconds: 3600 }, { ttl: 3_600_000 })),
    );
    taskIds.push(...batch.map((t) => t.taskId));
  }
  return { sessionId: transport.sessionId!, protocolVersion: transport.protocolVersion ?? null, taskIds };
}

let outputs: Array<() => string> = [];

beforeAll(async () => {
  const prisma = getPrisma();
  await ensureDefaultPolicy(prisma, systemActor("test", `sync-processes-${randomUUID()}`));
  const policy = await prisma.handlePolicy.findFirstOrThrow({ orderBy: { version: "desc" }, select: { version: true } });
  const admin = actorFor(await createPrincipal(prisma, { role: "admin" }));
  const agent = await createAgent(admin);
  const signingKey = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();

  // The workers boot while the upstream tasks are created.
  const a = startWorker("A", signingKey);
  const b = startWorker("B", signingKey);
  outputs = [a.output, b.output];
  const sessions: Prisma.GatewaySessionCreateManyInput[] = [];
  const handles: Prisma.HandleCreateManyInput[] = [];
  const now = Date.now();
  await Promise.all(
    Array.from({ length: SERVERS }, async () => {
      const demo = await startDemoServer();
      upstreams.push(demo);
      const relay = await startRelay(demo.url);
      relays.push(relay);
      const server = await registerServer({ url: relay.url, bearerToken: demo.bearerToken });
      // Recorded without tasks/list (and so not re-recorded by a health check): every poll is a
      // tasks/get naming its task, which the relay can count per handle.
      await prisma.mcpServer.update({
        where: { id: server.id },
        data: {
          pollMinMs: POLL_MS,
          pollMaxMs: POLL_MS,
          pollConcurrency: 8,
          capabilities: { tools: true, resources: false, prompts: false, logging: false, completions: false, tasks: { list: false, cancel: true, toolsCall: true }, extensions: [] },
        },
      });
      await Promise.all(
        Array.from({ length: SESSIONS_PER_SERVER }, async () => {
          const upstream = await createUpstreamTasks(demo);
          const sessionId = randomUUID();
          sessions.push({
            id: sessionId,
            sessionHash: keyedHash("gateway-session", randomBytes(32).toString("base64url")),
            principalId: agent.principalId,
            serverId: server.id,
            apiKeyId: agent.apiKeyId,
            upstreamSessionEnc: encryptSecret(upstream.sessionId, upstreamSessionContext(sessionId)),
            protocolVersion: upstream.protocolVersion,
          });
          for (const taskId of upstream.taskIds) {
            const id = randomUUID();
            handleOfTask.set(taskId, id);
            handles.push({
              id,
              accessor: newAccessor(),
              tokenHash: handleTokenHash(newHandleToken()),
              tokenEnc: encryptHandleToken(id, newHandleToken()),
              upstreamTaskIdEnc: encryptSecret(taskId, upstreamTaskContext(id)),
              upstreamTaskIdHash: upstreamTaskIdHash(server.id, taskId),
              wire: "core_2025_11_25",
              serverId: server.id,
              principalId: agent.principalId,
              sessionId,
              apiKeyId: agent.apiKeyId,
              audience: `http://gateway.test/mcp/${server.slug}`,
              toolName: "long_task",
              policyVersion: policy.version,
              effectiveTtlMs: 3_600_000,
              expiresAt: new Date(now + 3_600_000),
              status: "working",
              // Due spread over one poll interval, as handles minted over time are.
              nextPollAt: new Date(now + Math.floor(Math.random() * POLL_MS)),
            });
          }
        }),
      );
    }),
  );
  // Written in bulk, one statement each.
  await prisma.gatewaySession.createMany({ data: sessions });
  expect((await prisma.handle.createMany({ data: handles })).count).toBe(HANDLES);
  expect(handleOfTask.size).toBe(HANDLES);
  await Promise.all([a.ready, b.ready]);
}, 180_000);

afterAll(async () => {
  for (const child of workers.values()) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled([...relays, ...upstreams].map((x) => x.close()));
  // What the workers said, when one of them logged an error.
  if (outputs.some((o) => /"level":(50|60)/.test(o()))) console.error(outputs.map((o) => o().slice(-3000)).join("\n----\n"));
});

describe("two worker processes", () => {
  it("share the polling with no handle polled twice, and the survivor takes over a killed one's share within the lease", async () => {
    const prisma = getPrisma();
    const taskIds = [...handleOfTask.keys()];
    const distinct = (worker: TWorkerName) => polledBy[worker].size;

    // Both at work: every handle polled, each process a good share of them.
    const progress = () => ({ polls: polls.length, polled: pollsByTask.size, handlesPolledByA: distinct("A"), handlesPolledByB: distinct("B"), inFlight: [...inFlight.values()].flat().length });
    await waitFor("every handle to be polled", () => pollsByTask.size === HANDLES, 60_000, 100, progress);
    await waitFor("both processes to poll a share of the handles", () => distinct("A") >= HANDLES * 0.2 && distinct("B") >= HANDLES * 0.2, 30_000, 100, progress);
    expect(polls.filter((p) => p.worker === null)).toEqual([]); // every poll came from one of the two

    // Kill A while it holds claims: the moment it has polls in flight.
    await waitFor("worker A to be mid-round", () => [...inFlight.values()].some((list) => list.some((p) => p.worker === "A")), 20_000, 5);
    const killedAt = Date.now();
    const inFlightAtKill = [...inFlight.values()].flat().filter((p) => p.worker === "A");
    const a = workers.get("A")!;
    a.kill("SIGKILL");
    await new Promise((r) => a.once("exit", r));
    const exitedAt = Date.now();
    // A's claims: its polls in flight at the kill, and any it sent in the moments before it died.
    const orphaned = [...new Set([...inFlightAtKill, ...polls.filter((p) => p.start >= killedAt && p.start <= exitedAt && p.worker !== "B")].map((p) => p.taskId))];
    expect(orphaned.length).toBeGreaterThan(0);
    // The dead process's claims on those handles, as Postgres holds them.
    const leases = await prisma.handle.findMany({ where: { id: { in: orphaned.map((t) => handleOfTask.get(t)!) } }, select: { id: true, pollLeaseUntil: true } });
    const leaseUntil = new Map(leases.map((h) => [h.id, h.pollLeaseUntil?.getTime() ?? null]));
    expect(leases.filter((h) => h.pollLeaseUntil === null || h.pollLeaseUntil.getTime() <= killedAt)).toEqual([]);

    // The survivor polls every handle, its dead peer's claims once their lease has run out.
    const polledSince = (t: string) => pollsOf(t).some((p) => p.worker === "B" && p.start > killedAt && p.end !== null);
    await waitFor("the survivor to poll every handle", () => taskIds.every(polledSince), POLL_LEASE_SECONDS * 1000 + PICKUP_SLACK_MS + 5_000, 250, () => {
      const since = polls.filter((p) => p.start > killedAt);
      const seconds: Record<number, number> = {};
      for (const p of since) seconds[Math.floor((p.start - killedAt) / 1000)] = (seconds[Math.floor((p.start - killedAt) / 1000)] ?? 0) + 1;
      return { orphaned: orphaned.length, orphansRepolled: orphaned.filter(polledSince).length, notPolledSinceKill: taskIds.filter((t) => !polledSince(t)).length, pollsPerSecondSinceKill: seconds };
    });
    // After A's exit only B polls; A's last requests may still reach the relay late, sent before it died.
    expect(polls.filter((p) => p.start > exitedAt && p.worker !== "B" && p.worker !== "A")).toEqual([]);
    const early: Array<{ taskId: string; msBeforeLeaseEnd: number }> = [];
    const late: Array<{ taskId: string; msAfterLeaseEnd: number }> = [];
    for (const taskId of orphaned) {
      const next = pollsOf(taskId).find((p) => p.worker === "B" && p.start > killedAt)!;
      const until = leaseUntil.get(handleOfTask.get(taskId)!)!;
      // Not touched while the dead process's lease stood (its end is stored to the millisecond)...
      if (next.start < until - 5) early.push({ taskId, msBeforeLeaseEnd: until - next.start });
      // ...and picked up once it ran out.
      if (next.start > until + PICKUP_SLACK_MS) late.push({ taskId, msAfterLeaseEnd: next.start - until });
    }
    expect(early).toEqual([]);
    expect(late).toEqual([]);

    // The handles say so too: each confirmed upstream after the kill; nothing lost, none failing.
    await waitFor("the last polls to be recorded", async () => (await prisma.handle.count({ where: { OR: [{ lastPolledAt: null }, { lastPolledAt: { lte: new Date(killedAt) } }] } })) === 0, 20_000);
    const rows = await prisma.handle.findMany({ select: { status: true, pollFailures: true, revokedAt: true } });
    expect(rows).toHaveLength(HANDLES);
    expect(rows.filter((r) => r.status !== "working" || r.pollFailures !== 0 || r.revokedAt !== null)).toEqual([]);

    // No double polling over the whole run: never two polls of a handle at once, never two for one due time.
    expect(overlaps).toEqual([]);
    const tooClose: Array<{ taskId: string; gapMs: number }> = [];
    for (const taskId of taskIds) {
      const starts = pollsOf(taskId).map((p) => p.start);
      for (let i = 1; i < starts.length; i++) if (starts[i]! - starts[i - 1]! < MIN_GAP_MS) tooClose.push({ taskId, gapMs: starts[i]! - starts[i - 1]! });
    }
    expect(tooClose).toEqual([]);
  }, 240_000);
});
