// Issue #3: "Kill Postgres in the middle of a burst of audited actions: afterwards every action
// that reported success has its event, no action without an event took effect, and the chain
// verifies." Other tests share the machine's Postgres, so this one kills a private cluster of
// its own: initdb into a temp dir, start it on a free port, crash it with SIGKILL to the whole
// server (postmaster and backends at once, as the OOM killer or a power cut would), restart it
// so it runs crash recovery, then check the invariants.
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import { sealAuditChain } from "@/lib/audit/seal-audit-chain";
import { getAuditSigningKey, type TSigningKey } from "@/lib/audit/signing-key";
import { verifyAuditChain } from "@/lib/audit/verify-audit-chain";
import { systemActor } from "@/lib/auth/actor";
import { createPool, createPrismaClient, type TPrismaClient } from "@/lib/db/client";
import { withPostgresClient } from "@/lib/db/database-admin";
import { applyMigrations } from "@/lib/db/schema-engine";
import { resetEnvCache } from "@/lib/env";

const run = promisify(execFile);
const WRITERS = 8;
const BURST_MS = 1000;
const DATABASE = "tether_crash";

/** The newest installed Postgres that has both initdb and pg_ctl (Debian/Ubuntu layout). */
function findPostgresBin(): string | null {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = path.join(base, v, "bin");
    if (existsSync(path.join(bin, "initdb")) && existsSync(path.join(bin, "pg_ctl"))) return bin;
  }
  return null;
}

const bin = findPostgresBin();
if (!bin) console.warn("audit-crash.test.ts SKIPPED: no initdb/pg_ctl under /usr/lib/postgresql/*/bin, so no private Postgres cluster can be started to crash.");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** A throwaway Postgres cluster. initdb refuses to run as root, so as root it runs as `postgres`. */
class PrivateCluster {
  readonly dir = mkdtempSync(path.join(tmpdir(), "tether-crash-pg-"));
  readonly data = path.join(this.dir, "data");
  private readonly asRoot = process.getuid?.() === 0;
  constructor(
    private readonly bin: string,
    readonly port: number,
  ) {}

  get adminUrl() {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get url() {
    return `postgresql://postgres@127.0.0.1:${this.port}/${DATABASE}`;
  }

  private async pgTool(tool: string, args: string[]) {
    const file = path.join(this.bin, tool);
    return this.asRoot ? run("runuser", ["-u", "postgres", "--", file, ...args]) : run(file, args);
  }

  async init() {
    if (this.asRoot) {
      const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
      const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
      chownSync(this.dir, uid, gid);
    }
    await this.pgTool("initdb", ["-D", this.data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  }

  async start() {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=40 -c shared_buffers=32MB`;
    await this.pgTool("pg_ctl", ["-D", this.data, "-o", options, "-l", path.join(this.dir, "log"), "-w", "-t", "60", "start"]).catch((err: Error) => {
      throw new Error(`${err.message}\n--- server log (last lines) ---\n${this.log().split("\n").slice(-15).join("\n")}`);
    });
  }

  postmasterPid(): number | null {
    try {
      return Number(readFileSync(path.join(this.data, "postmaster.pid"), "utf8").split("\n")[0]);
    } catch {
      return null;
    }
  }

  /**
   * The server dies at one instant, as in an OOM kill or a power cut: every Postgres process is
   * frozen (SIGSTOP, postmaster first so it cannot fork or react), then all are SIGKILLed. No
   * shutdown checkpoint, no backend gets to finish a statement or tell its client anything.
   * Backends are not in the postmaster's process group (each calls setsid), so they are found
   * by parent pid.
   */
  async crash() {
    const pid = this.postmasterPid();
    if (!pid || !isAlive(pid)) throw new Error("the private cluster is not running");
    const frozen = new Set<number>();
    for (let round = 0; round < 3; round++) {
      for (const p of [pid, ...descendants(pid)]) {
        if (frozen.has(p)) continue;
        process.kill(p, "SIGSTOP");
        frozen.add(p);
      }
    }
    for (const p of frozen) process.kill(p, "SIGKILL");
    for (let i = 0; [...frozen].some(isAlive); i++) {
      if (i > 400) throw new Error("the killed Postgres processes did not exit");
      await new Promise((r) => setTimeout(r, 25));
    }
    // The dead postmaster is a zombie until init reaps it, and a new postmaster takes a zombie
    // for a running one ("lock file already exists"). Some inits reap late or never; the lock
    // file of a dead server is stale either way.
    for (let i = 0; existsSync(`/proc/${pid}`); i++) {
      if (i > 200) {
        rmSync(path.join(this.data, "postmaster.pid"), { force: true });
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return frozen.size;
  }

  async stop() {
    const pid = this.postmasterPid();
    if (pid && isAlive(pid)) {
      await this.pgTool("pg_ctl", ["-D", this.data, "-m", "immediate", "-w", "stop"]).catch(() => this.crash());
    }
  }

  log() {
    try {
      return readFileSync(path.join(this.dir, "log"), "utf8");
    } catch {
      return "";
    }
  }
}

/** Live (non-zombie) process? From /proc, so it also works for another user's processes. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Every live descendant of `pid`, from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // After the command name (which may contain spaces): state ppid ...
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state !== "Z") children.set(Number(ppid), [...(children.get(Number(ppid)) ?? []), Number(entry)]);
    } catch {
      /* exited while listing */
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms).unref())]);
}

describe.skipIf(!bin)("audit trail survives Postgres being killed mid-burst", () => {
  let cluster: PrivateCluster | undefined;
  let key: TSigningKey;
  const toClose: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    process.env.TETHER_AUDIT_SIGNING_KEY = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    resetEnvCache();
    key = getAuditSigningKey();
    cluster = new PrivateCluster(bin!, await freePort());
    await cluster.init();
    await cluster.start();
    await withPostgresClient(cluster.adminUrl, (c) => c.query(`CREATE DATABASE ${DATABASE}`));
    await applyMigrations({ connectionString: cluster.url });
  });

  afterAll(async () => {
    for (const close of toClose.reverse()) await withTimeout(close(), 5000, "closing a pool").catch(() => undefined);
    if (cluster) {
      await cluster.stop().catch(() => undefined);
      rmSync(cluster.dir, { recursive: true, force: true });
    }
  });

  function open(max: number): { pool: pg.Pool; prisma: TPrismaClient } {
    const pool = createPool(cluster!.url, { role: "tether_app", max });
    // Works around a bug in lib/ (see the report on issue #3): sealAuditChain checks a client
    // out of the pool without an "error" listener, and pg emits "error" on a client whose
    // connection drops, so a crash during a sealing round is an uncaught exception that kills
    // the process, here the test worker. Harmless once lib/ handles it.
    pool.on("connect", (client) => client.on("error", () => undefined));
    const prisma = createPrismaClient(pool);
    toClose.push(
      () => prisma.$disconnect(),
      () => pool.end(),
    );
    return { pool, prisma };
  }

  it(
    "keeps every acknowledged action with its event, no change without its event, and a chain that verifies",
    async () => {
      const { pool, prisma } = open(WRITERS + 2);
      const actor = systemActor("crash-test", "req-crash");
      const succeeded = new Map<string, string>(); // email → principal id
      const failed: string[] = [];
      const attempted = new Set<string>();
      let inFlight = 0;
      let stop = false;
      let crashedAt = 0;
      let errorBeforeCrash: unknown;

      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const email = `crash-${w}-${i}@example.test`;
          attempted.add(email);
          inFlight++;
          try {
            const id = await prisma.$transaction(async (tx) => {
              const p = await tx.principal.create({ data: { kind: "user", role: "viewer", email, name: `Crash writer ${w} #${i}` } });
              await recordAuditEvent(tx, { actor, action: "user.created", target: { type: "principal", id: p.id }, payload: { email, role: "viewer", kind: "user" } });
              return p.id;
            });
            succeeded.set(email, id);
          } catch (err) {
            // Outcome unknown: the commit may or may not have reached the disk before the crash.
            failed.push(email);
            if (crashedAt) return;
            errorBeforeCrash ??= err;
          } finally {
            inFlight--;
          }
        }
      };

      // The production sealer runs alongside, so the crash can also interrupt a sealing round.
      let sealerRounds = 0;
      const sealer = (async () => {
        while (!stop) {
          await sealAuditChain(pool, { signingKey: key, checkpointEvery: 50 })
            .then(() => sealerRounds++)
            .catch(() => undefined);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();

      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
      // The first actions pay for connections and Prisma's warm-up: the burst starts after them.
      for (let waited = 0; succeeded.size < WRITERS * 2 && !errorBeforeCrash; waited += 20) {
        if (waited > 30_000) throw new Error("the writers did not get going");
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, BURST_MS));
      if (errorBeforeCrash) throw errorBeforeCrash;
      const successesBeforeCrash = succeeded.size;
      const inFlightAtCrash = inFlight;
      crashedAt = Date.now();
      const killed = await cluster!.crash();
      stop = true;
      await withTimeout(Promise.all(writers), 30_000, "the writers");
      await withTimeout(sealer, 30_000, "the sealer");

      // Proof that the crash hit a burst in progress, not an idle server.
      expect(killed).toBeGreaterThan(1);
      expect(successesBeforeCrash).toBeGreaterThan(10);
      expect(inFlightAtCrash).toBeGreaterThan(0);
      expect(failed.length).toBeGreaterThan(0);
      expect(sealerRounds).toBeGreaterThan(0);

      await cluster!.start();
      expect(cluster!.log()).toMatch(/database system was interrupted|not properly shut down/);

      const owner = createPool(cluster!.url, { max: 2 });
      toClose.push(() => owner.end());
      const { rows: principals } = await owner.query<{ id: string; email: string }>("SELECT id::text AS id, email FROM principal WHERE email LIKE 'crash-%'");
      const { rows: events } = await owner.query<{ seq: string; target_id: string | null; email: string | null }>(
        "SELECT seq::text AS seq, target_id, payload->>'email' AS email FROM audit_event WHERE action = 'user.created'",
      );
      const principalById = new Map(principals.map((p) => [p.id, p.email]));
      const eventsByTarget = new Map<string, typeof events>();
      for (const e of events) eventsByTarget.set(e.target_id ?? "", [...(eventsByTarget.get(e.target_id ?? "") ?? []), e]);

      // Every acknowledged action took effect and has exactly its one event.
      for (const [email, id] of succeeded) {
        expect(principalById.get(id), `acknowledged principal ${email}`).toBe(email);
        expect(eventsByTarget.get(id)?.map((e) => e.email), `audit event of ${email}`).toEqual([email]);
      }
      // No change without its event, and no event without its change.
      for (const p of principals) {
        expect(attempted.has(p.email)).toBe(true);
        expect(eventsByTarget.get(p.id)?.map((e) => e.email), `audit event of surviving principal ${p.email}`).toEqual([p.email]);
      }
      for (const e of events) expect(principalById.get(e.target_id ?? ""), `principal of audit event seq ${e.seq}`).toBe(e.email);
      expect(events.length).toBe(principals.length);
      expect(principals.length).toBeGreaterThanOrEqual(succeeded.size);

      // The sealer picks up where it was, on fresh connections, and the whole chain verifies.
      const after = open(2).pool;
      for (let round = 0; ; round++) {
        expect(round).toBeLessThan(1000);
        const r = await sealAuditChain(after, { signingKey: key, checkpointEvery: 50 });
        if (r.sealed === 0) break;
      }
      const { rows: chain } = await owner.query<{ n: number; max: number | null; events: number }>(
        "SELECT count(*)::int AS n, max(position)::int AS max, (SELECT count(*)::int FROM audit_event) AS events FROM audit_chain",
      );
      expect(chain[0]).toEqual({ n: chain[0]!.events, max: chain[0]!.events, events: chain[0]!.events });
      const verified = await verifyAuditChain(after, { publicKeys: [key.publicKeyPem] });
      expect(verified.failure).toBeNull();
      expect(verified.ok).toBe(true);
      expect(verified.events).toBe(chain[0]!.events);
      expect(verified.pendingEvents).toBe(0);
      expect(verified.checkpoints).toBeGreaterThan(0);
      const ackedBeforeCrash = [...succeeded.keys()].filter((e) => !failed.includes(e)).length;
      const unknownThatCommitted = principals.filter((p) => !succeeded.has(p.email)).length;
      console.info(
        `crash test: ${killed} Postgres processes killed with ${inFlightAtCrash} actions in flight; ${ackedBeforeCrash} acknowledged, ` +
          `${failed.length} failed (${unknownThatCommitted} of them had committed); ${verified.events} events sealed and verified, ${verified.checkpoints} checkpoints.`,
      );
    },
    120_000,
  );
});
