// The audit chain on a real Postgres: privileges and triggers, sealing in commit order with no
// gaps, signed checkpoints, verification naming the first bad event for each kind of
// tampering by a superuser, and the exported bundle checked by the standalone verifier.
import { execFile } from "node:child_process";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import { sealAuditChain } from "@/lib/audit/seal-audit-chain";
import { verifyAuditChain } from "@/lib/audit/verify-audit-chain";
import { systemActor } from "@/lib/auth/actor";
import { resetEnvCache } from "@/lib/env";
import { setUpChainDatabases, type TChainDb } from "./support/chain-databases";

const run = promisify(execFile);
const actor = systemActor("test", "req-chain-test");

const chains = setUpChainDatabases();
const openDb = () => chains.openDb();
const key = () => chains.signingKey();

async function record(db: TChainDb, n: number, tag = "t") {
  for (let i = 0; i < n; i++) {
    await db.prisma.$transaction((tx) =>
      recordAuditEvent(tx, { actor, action: "user.enabled", target: { type: "principal", id: `${tag}-${i}` }, reason: `event ${i}`, payload: {} }),
    );
  }
}

/**
 * Seals until every committed event is linked. The sealer waits for every older transaction
 * in the whole cluster (xids are cluster-wide), so another test's open transaction can hold it
 * back for a moment: poll rather than stop at the first empty round.
 */
async function sealAll(db: TChainDb, checkpointEvery = 5) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await sealAuditChain(db.app, { signingKey: key(), checkpointEvery, checkpointSeconds: 3600, batchSize: 7 });
    if (r.sealed > 0) continue;
    const { rows } = await db.owner.query("SELECT count(*)::int AS n FROM audit_event e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_seq = e.seq)");
    if (rows[0].n === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0].n} events still unsealed after 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const verify = (db: TChainDb) => verifyAuditChain(db.app, { publicKeys: [key().publicKeyPem] });

/** Runs SQL as the superuser with triggers and foreign keys switched off: what an attacker with full access does. */
async function tamper(db: TChainDb, sql: string, params: unknown[] = []) {
  const c = await db.owner.connect();
  try {
    await c.query("SET session_replication_role = replica");
    await c.query(sql, params);
  } finally {
    await c.query("RESET session_replication_role").catch(() => undefined);
    c.release();
  }
}

describe("append-only by construction", () => {
  let db: TChainDb;
  beforeAll(async () => {
    db = await openDb();
    await record(db, 3);
    await sealAll(db, 1);
  });

  for (const table of ["audit_event", "audit_chain", "audit_checkpoint"]) {
    it(`the application role may insert and read ${table} but not change it`, async () => {
      const c = await db.app.connect();
      try {
        expect((await c.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n).toBeGreaterThan(0);
        for (const sql of [`UPDATE ${table} SET ${table === "audit_event" ? "reason" : "hash"} = 'x'`, `DELETE FROM ${table}`, `TRUNCATE ${table}`]) {
          await expect(c.query(sql)).rejects.toThrow(/permission denied/);
        }
      } finally {
        c.release();
      }
    });

    it(`the owner is stopped by the triggers on ${table}`, async () => {
      for (const sql of [`UPDATE ${table} SET ${table === "audit_event" ? "reason" : "hash"} = 'x'`, `DELETE FROM ${table}`, `TRUNCATE ${table} CASCADE`]) {
        await expect(db.owner.query(sql)).rejects.toThrow(/append-only/);
      }
    });
  }
});

describe("sealing", () => {
  it("links events from concurrent writers into one gap-free chain, with signed checkpoints", async () => {
    const db = await openDb();
    await Promise.all(Array.from({ length: 8 }, (_, w) => record(db, 15, `w${w}`)));
    await sealAll(db, 10);
    const { rows } = await db.owner.query("SELECT count(*)::int AS n, min(position)::int AS lo, max(position)::int AS hi, count(DISTINCT event_seq)::int AS events FROM audit_chain");
    expect(rows[0]).toEqual({ n: 120, lo: 1, hi: 120, events: 120 });
    const r = await verify(db);
    expect(r.ok).toBe(true);
    expect(r.events).toBe(120);
    const { rows: cps } = await db.owner.query("SELECT count(*)::int AS n FROM audit_checkpoint");
    expect(r.checkpoints).toBe(cps[0].n);
    expect(r.checkpoints).toBeGreaterThanOrEqual(9);
    expect(r.pendingEvents).toBe(0);
  });

  it("never skips an event whose transaction commits after a later one", async () => {
    const db = await openDb();
    const early = await db.app.connect();
    await early.query("BEGIN");
    await early.query(
      "INSERT INTO audit_event (id, actor_type, action, outcome, payload) VALUES ($1, 'system', 'user.enabled', 'ok', '{}')",
      [randomUUID()],
    );
    await record(db, 2, "late"); // commits while `early` is still open
    await sealAuditChain(db.app, { signingKey: key() });
    expect((await db.owner.query("SELECT count(*)::int AS n FROM audit_chain")).rows[0].n).toBe(0);
    await early.query("COMMIT");
    early.release();
    await sealAll(db);
    const { rows } = await db.owner.query("SELECT e.action, c.position::int AS p FROM audit_chain c JOIN audit_event e ON e.seq = c.event_seq ORDER BY c.position");
    expect(rows.map((r) => r.p)).toEqual([1, 2, 3]);
    expect((await verify(db)).ok).toBe(true);
  });

  it("lets only one sealer work at a time", async () => {
    const db = await openDb();
    await record(db, 30);
    const results = await Promise.all(Array.from({ length: 4 }, () => sealAuditChain(db.app, { signingKey: key(), batchSize: 1000 })));
    // A transaction open anywhere in the cluster (another test file) may hold some events back
    // from this round; whatever the concurrent sealers did, no event may be linked twice.
    expect(results.reduce((n, r) => n + r.sealed, 0)).toBeLessThanOrEqual(30);
    await sealAll(db);
    const { rows } = await db.owner.query("SELECT count(*)::int AS links, count(DISTINCT event_seq)::int AS events, max(position)::int AS head FROM audit_chain");
    expect(rows[0]).toEqual({ links: 30, events: 30, head: 30 });
    expect((await verify(db)).ok).toBe(true);
  });
});

describe("tampering by a superuser is detected at the right position", () => {
  async function chainOf(n: number) {
    const db = await openDb();
    await record(db, n);
    await sealAll(db, 5);
    expect((await verify(db)).ok).toBe(true);
    const seqAt = async (p: number) => (await db.owner.query("SELECT event_seq::text AS s FROM audit_chain WHERE position = $1", [p])).rows[0].s as string;
    return { db, seqAt };
  }

  it("a changed payload", async () => {
    const { db, seqAt } = await chainOf(12);
    await tamper(db, `UPDATE audit_event SET payload = '{"forged": true}' WHERE seq = $1`, [await seqAt(7)]);
    expect((await verify(db)).failure).toMatchObject({ position: "7", reason: "changed_event" });
  });

  it("a changed reason (any field is covered)", async () => {
    const { db, seqAt } = await chainOf(12);
    await tamper(db, "UPDATE audit_event SET reason = 'nothing to see' WHERE seq = $1", [await seqAt(3)]);
    expect((await verify(db)).failure).toMatchObject({ position: "3", reason: "changed_event" });
  });

  it("a changed hash", async () => {
    const { db } = await chainOf(12);
    await tamper(db, "UPDATE audit_chain SET hash = repeat('a', 64) WHERE position = 9");
    expect((await verify(db)).failure).toMatchObject({ position: "9", reason: "changed_hash" });
  });

  it("a deleted event", async () => {
    const { db, seqAt } = await chainOf(12);
    await tamper(db, "DELETE FROM audit_event WHERE seq = $1", [await seqAt(5)]);
    expect((await verify(db)).failure).toMatchObject({ position: "5", reason: "missing_event" });
  });

  it("a deleted chain link", async () => {
    const { db } = await chainOf(12);
    await tamper(db, "DELETE FROM audit_chain WHERE position = 4");
    expect((await verify(db)).failure).toMatchObject({ position: "4", reason: "missing_event" });
  });

  it("the end of the chain cut off", async () => {
    const { db } = await chainOf(12);
    await tamper(db, "DELETE FROM audit_chain WHERE position > 8");
    // The first checkpoint beyond the new end names the cut.
    const cut = (await db.owner.query("SELECT min(position)::text AS p FROM audit_checkpoint WHERE position > 8")).rows[0].p as string;
    expect((await verify(db)).failure).toMatchObject({ position: cut, reason: "missing_event" });
  });

  it("two events swapped", async () => {
    const { db, seqAt } = await chainOf(12);
    const [a, b] = [await seqAt(4), await seqAt(8)];
    await tamper(db, "UPDATE audit_chain SET event_seq = -1 WHERE event_seq = $1::bigint", [a]);
    await tamper(db, "UPDATE audit_chain SET event_seq = $1::bigint WHERE event_seq = $2::bigint", [a, b]);
    await tamper(db, "UPDATE audit_chain SET event_seq = $1::bigint WHERE event_seq = -1", [b]);
    expect((await verify(db)).failure).toMatchObject({ position: "4", reason: "reordered" });
  });

  it("an event inserted behind the sealer's back", async () => {
    const { db } = await chainOf(6);
    await tamper(db, "INSERT INTO audit_event (id, actor_type, action, outcome, payload, txid) VALUES ($1, 'system', 'user.enabled', 'ok', '{}', '1'::xid8)", [randomUUID()]);
    expect((await verify(db)).failure).toMatchObject({ reason: "unsealed_event" });
  });

  it("a forged checkpoint signature", async () => {
    const { db } = await chainOf(12);
    const last = (await db.owner.query("SELECT max(position)::text AS p FROM audit_checkpoint")).rows[0].p as string;
    await tamper(db, "UPDATE audit_checkpoint SET signature = $1 WHERE position = $2::bigint", [Buffer.alloc(64, 7).toString("base64"), last]);
    expect((await verify(db)).failure).toMatchObject({ position: last, reason: "bad_checkpoint_signature" });
  });

  it("a checkpoint signed by an untrusted key", async () => {
    const { db } = await chainOf(12);
    const other = generateKeyPairSync("ed25519");
    const verifier = await verifyAuditChain(db.app, { publicKeys: [other.publicKey.export({ type: "spki", format: "pem" }).toString()] });
    const first = (await db.owner.query("SELECT min(position)::text AS p FROM audit_checkpoint")).rows[0].p as string;
    expect(verifier.failure).toMatchObject({ position: first, reason: "bad_checkpoint_signature" });
  });
});

describe("offline verification of an exported bundle", () => {
  const verifierBin = path.resolve("bin/tether-audit-verify.mjs");

  async function bundleOf(db: TChainDb): Promise<string> {
    // The export use case runs against the process-wide pool; point it at this database.
    process.env.DATABASE_URL = db.url;
    resetEnvCache();
    const { exportAuditEvents } = await import("@/lib/audit/export-audit-events");
    const { getPool } = await import("@/lib/db/client");
    (globalThis as { tetherPool?: pg.Pool }).tetherPool = db.app;
    (globalThis as { tetherPrisma?: unknown }).tetherPrisma = db.prisma;
    try {
      const admin = { type: "user" as const, id: randomUUID(), role: "auditor" as const, name: "a", email: null, request: { requestId: "req-export-1" } };
      const { stream } = await exportAuditEvents({ actor: admin, query: { format: "ndjson" } });
      expect(getPool()).toBe(db.app);
      return await new Response(stream).text();
    } finally {
      delete (globalThis as { tetherPool?: pg.Pool }).tetherPool;
      delete (globalThis as { tetherPrisma?: unknown }).tetherPrisma;
    }
  }

  async function check(file: string, keyFile: string) {
    try {
      const { stdout } = await run(process.execPath, [verifierBin, file, "--public-key", keyFile]);
      return { code: 0, out: stdout };
    } catch (err) {
      const e = err as { code: number; stderr: string };
      return { code: e.code, out: e.stderr };
    }
  }

  it("verifies intact, and names the line of a changed, removed or truncated bundle", async () => {
    const db = await openDb();
    await record(db, 23);
    await sealAll(db, 5);
    const text = await bundleOf(db);
    const dir = mkdtempSync(path.join(tmpdir(), "tether-bundle-"));
    const keyFile = path.join(dir, "key.pem");
    writeFileSync(keyFile, key().publicKeyPem);
    const lines = text.trimEnd().split("\n");
    const write = (name: string, ls: string[]) => {
      const f = path.join(dir, name);
      writeFileSync(f, `${ls.join("\n")}\n`);
      return f;
    };

    const ok = await check(write("ok.ndjson", lines), keyFile);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/OK: 2[0-9] events/);

    const eventLines = lines.map((l, i) => [l, i] as const).filter(([l]) => l.includes('"type":"event"'));
    const [line, idx] = eventLines[6]!;
    const changed = [...lines];
    changed[idx] = line.replace('"reason":"event', '"reason":"forged');
    const c = await check(write("changed.ndjson", changed), keyFile);
    expect(c.code).toBe(1);
    expect(c.out).toMatch(/position 7 .*changed_event/);

    const removed = lines.filter((_, i) => i !== idx);
    expect((await check(write("removed.ndjson", removed), keyFile)).out).toMatch(/position 7 .*missing_event/);

    const truncated = lines.slice(0, -1);
    expect((await check(write("truncated.ndjson", truncated), keyFile)).out).toMatch(/truncated/);

    const wrongKey = path.join(dir, "other.pem");
    writeFileSync(wrongKey, generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString());
    expect((await check(write("ok2.ndjson", lines), wrongKey)).out).toMatch(/bad_checkpoint_signature/);
    expect(readFileSync(path.join(dir, "ok.ndjson"), "utf8")).toContain('"type":"trailer"');
  });
});
