// The database verifier streams the chain with COPY in position windows: a problem in a later
// window is named at its own position, text survives COPY's escaping byte for byte (the sealer
// read the same rows through ordinary query results), and the embedded database speaks COPY too.
import { randomUUID } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import { sealAuditChain } from "@/lib/audit/seal-audit-chain";
import { verifyAuditChain } from "@/lib/audit/verify-audit-chain";
import { copyRows, type TCopyField } from "@/lib/audit/verify-copy-rows";
import type { TActor } from "@/lib/auth/actor";
import { setUpChainDatabases, type TChainDb } from "./support/chain-databases";

const chains = setUpChainDatabases();
const openDb = () => chains.openDb();
const key = () => chains.signingKey();

function actorFor(i: number, userAgent = "Mozilla/5.0 (test)"): TActor {
  return { type: "user", id: randomUUID(), role: "admin", name: "Verifier test", email: null, request: { requestId: `req-copy-${i}`, ip: `10.1.0.${i % 250}`, userAgent } };
}

async function record(db: TChainDb, n: number) {
  for (let i = 0; i < n; i++) {
    await db.prisma.$transaction((tx) =>
      recordAuditEvent(tx, { actor: actorFor(i), action: "policy.changed", target: { type: "policy", id: "default" }, reason: `event ${i}`, payload: { version: i, changes: { maxTtlMinutes: 15 * i } } }),
    );
  }
}

/** Seals until every committed event is linked (another file's open transaction can hold the sealer back for a moment). */
async function sealAll(db: TChainDb, checkpointEvery = 4) {
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

// Windows of 5 positions: 23 events make five COPY statements, the last one short.
const WINDOW = 5;
const verify = (db: TChainDb) => verifyAuditChain(db.app, { publicKeys: [key().publicKeyPem], batchSize: WINDOW });

describe("verification in COPY windows", () => {
  async function chainOf(n: number) {
    const db = await openDb();
    await record(db, n);
    await sealAll(db);
    const seqAt = async (p: number) => (await db.owner.query("SELECT event_seq::text AS s FROM audit_chain WHERE position = $1", [p])).rows[0].s as string;
    return { db, seqAt };
  }

  it("walks every window and reports progress after each", async () => {
    const { db } = await chainOf(23);
    const progress: number[] = [];
    const r = await verifyAuditChain(db.app, { publicKeys: [key().publicKeyPem], batchSize: WINDOW, onProgress: (n) => progress.push(n) });
    expect(r).toMatchObject({ ok: true, events: 23, lastPosition: "23", pendingEvents: 0 });
    expect(progress).toEqual([5, 10, 15, 20, 23]);
    const { rows } = await db.owner.query("SELECT count(*)::int AS n FROM audit_checkpoint");
    expect(r.checkpoints).toBe(rows[0].n);
    // The default window (much larger than the chain) gives the same answer.
    expect(await verifyAuditChain(db.app, { publicKeys: [key().publicKeyPem] })).toEqual(r);
  });

  it("a changed event in the middle of a later window: changed_event at its position", async () => {
    const { db, seqAt } = await chainOf(23);
    await tamper(db, `UPDATE audit_event SET payload = '{"forged": true}' WHERE seq = $1`, [await seqAt(18)]);
    const r = await verify(db);
    expect(r.failure).toMatchObject({ position: "18", reason: "changed_event" });
    expect(r.events).toBe(17);
  });

  it("the first problem wins when a later window is also broken", async () => {
    const { db, seqAt } = await chainOf(23);
    await tamper(db, "UPDATE audit_event SET reason = 'later' WHERE seq = $1", [await seqAt(21)]);
    await tamper(db, "UPDATE audit_event SET reason = 'earlier' WHERE seq = $1", [await seqAt(12)]);
    expect((await verify(db)).failure).toMatchObject({ position: "12", reason: "changed_event" });
  });

  it("a changed hash at the last position of a window: changed_hash (the next link is read from the next window)", async () => {
    const { db } = await chainOf(23);
    await tamper(db, "UPDATE audit_chain SET hash = repeat('b', 64) WHERE position = 15");
    expect((await verify(db)).failure).toMatchObject({ position: "15", reason: "changed_hash" });
  });

  it("a deleted event, a deleted link and swapped events in later windows", async () => {
    const { db, seqAt } = await chainOf(23);
    await tamper(db, "DELETE FROM audit_event WHERE seq = $1", [await seqAt(22)]);
    expect((await verify(db)).failure).toMatchObject({ position: "22", reason: "missing_event" });

    const second = await chainOf(23);
    await tamper(second.db, "DELETE FROM audit_chain WHERE position = 13");
    expect((await verify(second.db)).failure).toMatchObject({ position: "13", reason: "missing_event" });

    const third = await chainOf(23);
    const [a, b] = [await third.seqAt(17), await third.seqAt(19)];
    await tamper(third.db, "UPDATE audit_chain SET event_seq = -1 WHERE event_seq = $1::bigint", [a]);
    await tamper(third.db, "UPDATE audit_chain SET event_seq = $1::bigint WHERE event_seq = $2::bigint", [a, b]);
    await tamper(third.db, "UPDATE audit_chain SET event_seq = $1::bigint WHERE event_seq = -1", [b]);
    expect((await verify(third.db)).failure).toMatchObject({ position: "17", reason: "reordered" });
  });

  it("a forged checkpoint in a later window: bad_checkpoint_signature at its position", async () => {
    const { db } = await chainOf(23);
    const { rows } = await db.owner.query("SELECT position::text AS p FROM audit_checkpoint WHERE position > 10 ORDER BY position LIMIT 1");
    const at = rows[0].p as string;
    await tamper(db, "UPDATE audit_checkpoint SET signature = $1 WHERE position = $2::bigint", [Buffer.alloc(64, 9).toString("base64"), at]);
    expect((await verify(db)).failure).toMatchObject({ position: at, reason: "bad_checkpoint_signature" });
  });
});

// Everything COPY's text format escapes (tab, newline, carriage return, backslash, the other
// escaped control characters), what it leaves alone (other control characters, quotes,
// non-ASCII, astral characters), a literal \N that must not become NULL, and a row far larger
// than a network chunk.
const AWKWARD = [
  "tab\there",
  "new\nline and carriage\rreturn",
  "back\\slash, \\N, \\t and a trailing \\",
  "\b\f\u000b\u0001\u001f",
  '"quoted" \u007f é € 😀 \u2028 キー',
];

describe("text that COPY escapes", () => {
  it("is read exactly as the sealer read it, and a change to it is still caught", async () => {
    const db = await openDb();
    const changes: Record<string, string | string[]> = Object.fromEntries(AWKWARD.map((s, i) => [`k${i}${s}`, s]));
    changes.list = AWKWARD;
    changes.big = "x\t\\".repeat(40_000);
    const events = [
      { reason: "\\N", userAgent: AWKWARD.join(" | ") },
      ...AWKWARD.map((s) => ({ reason: s, userAgent: s })),
      { reason: "plain", userAgent: "plain" },
    ];
    for (const [i, e] of events.entries()) {
      await db.prisma.$transaction((tx) =>
        recordAuditEvent(tx, { actor: actorFor(i, e.userAgent), action: "policy.changed", target: { type: "policy", id: "default" }, reason: e.reason, payload: { version: i, changes } }),
      );
    }
    await sealAll(db);
    // The literal text \N stayed text.
    const { rows } = await db.owner.query("SELECT reason FROM audit_event e JOIN audit_chain c ON c.event_seq = e.seq WHERE c.position = 1");
    expect(rows[0].reason).toBe("\\N");
    for (const batchSize of [1, 3, 10_000]) {
      expect(await verifyAuditChain(db.app, { publicKeys: [key().publicKeyPem], batchSize })).toMatchObject({ ok: true, events: events.length });
    }

    const seq = (await db.owner.query("SELECT event_seq::text AS s FROM audit_chain WHERE position = 4")).rows[0].s as string;
    await tamper(db, "UPDATE audit_event SET user_agent = replace(user_agent, E'\\\\', '/') WHERE seq = $1", [seq]);
    expect((await verifyAuditChain(db.app, { publicKeys: [key().publicKeyPem], batchSize: 3 })).failure).toMatchObject({ position: "4", reason: "changed_event" });
  });
});

describe("COPY on the embedded database (PGlite behind its socket server)", () => {
  it("streams the same fields, NULLs and escapes, after a SET LOCAL in the same statement", async () => {
    const db = await PGlite.create();
    const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0 });
    await server.start();
    const address = server.getServerConn();
    const client = new pg.Client(`postgresql://postgres@${address}/postgres`);
    try {
      await client.connect();
      await client.query("CREATE TABLE t (n bigint, s text, j jsonb)");
      for (const [i, s] of [...AWKWARD, "\\N"].entries()) await client.query("INSERT INTO t VALUES ($1, $2, $3)", [i, s, JSON.stringify({ s })]);
      await client.query("INSERT INTO t VALUES (99, NULL, NULL)");
      const rows: TCopyField[][] = [];
      await copyRows(client, "SET LOCAL jit = off; COPY (SELECT n, s, j FROM t ORDER BY n) TO STDOUT", (fields) => void rows.push(fields));
      expect(rows).toEqual([...[...AWKWARD, "\\N"].map((s, i) => [String(i), s, JSON.stringify({ s }).replace('{"s":', '{"s": ')]), ["99", null, null]]);
    } finally {
      await client.end().catch(() => undefined);
      await server.stop();
      await db.close();
    }
  });
});
