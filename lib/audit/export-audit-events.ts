import "server-only";
import { stringify } from "csv-stringify/sync";
import type pg from "pg";
import { z } from "zod";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPool, getPrisma } from "@/lib/db/client";
import { invalidInput } from "@/lib/errors";
import { getAuditSigningKey } from "./signing-key";
import { CHAIN_EVENT_COLUMNS, toChainEvent, type TAuditEventRow } from "./to-chain-event";

export const ZAuditExportQuery = z
  .object({
    format: z.enum(["ndjson", "csv"], { message: "format must be ndjson or csv" }).default("ndjson"),
    from: z.iso.datetime({ offset: true, message: "from must be an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z" }).optional(),
    to: z.iso.datetime({ offset: true, message: "to must be an ISO 8601 date-time, e.g. 2026-11-30T23:59:59Z" }).optional(),
  })
  .strict()
  .refine((q) => !q.from || !q.to || new Date(q.from) <= new Date(q.to), { message: "from must not be after to", path: ["from"] });

export const BUNDLE_FORMAT = "tether-audit-bundle";
export const BUNDLE_VERSION = 1;
const BATCH = 5000;

type TRange = { first: bigint; last: bigint; anchor: TCheckpointRow | null } | null;
type TCheckpointRow = { position: string; hash: string; created_at: Date; key_id: string; signature: string };
type TRow = TAuditEventRow & { position: string; prev_hash: string; hash: string };

export type TAuditExport = { stream: ReadableStream<Uint8Array>; filename: string; contentType: string };

/**
 * Streams the audit trail for a time range. NDJSON is a self-contained bundle an outsider can
 * verify offline (docs/audit-format.md): the public key, the signed checkpoint that anchors
 * the range's start, every chained event, every checkpoint in the range, and a trailer with
 * the count. The range is widened to whole checkpoint intervals so both ends are signed.
 * The export is audited before the first byte is sent.
 */
export async function exportAuditEvents(input: { actor: TActor; query: unknown }): Promise<TAuditExport> {
  assertCan(input.actor, "audit.export");
  const parsed = ZAuditExportQuery.safeParse(input.query);
  if (!parsed.success) throw invalidInput(parsed.error, "The export parameters are invalid.");
  const { format, from, to } = parsed.data;

  // The range is fixed first and the export audited before a byte is read: chain positions
  // are append-only, so the rows of [first, last] cannot change while they stream, and no
  // transaction is held open (the embedded database serves every connection from one backend).
  const pool = getPool();
  const range = await resolveRange(pool, from ?? null, to ?? null, format === "ndjson");
  await getPrisma().$transaction((tx) =>
    recordAuditEvent(tx, {
      actor: input.actor,
      action: "audit.exported",
      payload: { format, from: from ?? null, to: to ?? null, firstPosition: range ? range.first.toString() : null, lastPosition: range ? range.last.toString() : null },
    }),
  );
  const client = await pool.connect();
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return {
    stream: format === "ndjson" ? ndjsonStream(client, range, from ?? null, to ?? null) : csvStream(client, range),
    filename: `tether-audit-${stamp}.${format}`,
    contentType: format === "ndjson" ? "application/x-ndjson; charset=utf-8" : "text/csv; charset=utf-8",
  };
}

async function resolveRange(client: pg.Pool, from: string | null, to: string | null, widen: boolean): Promise<TRange> {
  const { rows } = await client.query<{ first: string | null; last: string | null }>(
    `SELECT min(c.position)::text AS first, max(c.position)::text AS last
       FROM audit_chain c JOIN audit_event e ON e.seq = c.event_seq
      WHERE ($1::timestamptz IS NULL OR e.occurred_at >= $1::timestamptz)
        AND ($2::timestamptz IS NULL OR e.occurred_at <= $2::timestamptz)`,
    [from, to],
  );
  if (!rows[0]?.first || !rows[0].last) return null;
  let first = BigInt(rows[0].first);
  let last = BigInt(rows[0].last);
  let anchor: TCheckpointRow | null = null;
  if (widen && first > 1n) {
    const { rows: a } = await client.query<TCheckpointRow>(
      "SELECT position::text AS position, hash, created_at, key_id, signature FROM audit_checkpoint WHERE position < $1::bigint ORDER BY audit_checkpoint.position DESC LIMIT 1",
      [first.toString()],
    );
    anchor = a[0] ?? null;
    first = anchor ? BigInt(anchor.position) + 1n : 1n;
  }
  if (widen) {
    const { rows: t } = await client.query<{ position: string }>(
      "SELECT position::text AS position FROM audit_checkpoint WHERE position >= $1::bigint ORDER BY audit_checkpoint.position LIMIT 1",
      [last.toString()],
    );
    if (t[0]) last = BigInt(t[0].position);
  }
  return { first, last, anchor };
}

function checkpointLine(c: TCheckpointRow) {
  return { type: "checkpoint", position: c.position, hash: c.hash, createdAt: c.created_at.toISOString(), keyId: c.key_id, signature: c.signature };
}

/** Pulls one batch per read: back-pressure comes from the HTTP response, memory stays flat. */
function batchedStream(client: pg.PoolClient, range: TRange, emit: {
  head: () => string;
  rows: (rows: TRow[], checkpoints: TCheckpointRow[]) => string;
  tail: (count: number) => string;
}): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after = range ? range.first - 1n : 0n;
  let count = 0;
  let started = false;
  let done = false;
  const finish = async () => {
    if (done) return;
    done = true;
    client.release();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (!started) {
          started = true;
          controller.enqueue(encoder.encode(emit.head()));
          return;
        }
        if (!range || after >= range.last) {
          controller.enqueue(encoder.encode(emit.tail(count)));
          await finish();
          controller.close();
          return;
        }
        const upto = after + BigInt(BATCH) < range.last ? after + BigInt(BATCH) : range.last;
        const [{ rows }, { rows: checkpoints }] = [
          await client.query<TRow>(
            `SELECT c.position::text AS position, c.prev_hash, c.hash, ${CHAIN_EVENT_COLUMNS}
               FROM audit_chain c JOIN audit_event e ON e.seq = c.event_seq
              WHERE c.position > $1::bigint AND c.position <= $2::bigint ORDER BY c.position`,
            [after.toString(), upto.toString()],
          ),
          await client.query<TCheckpointRow>(
            "SELECT position::text AS position, hash, created_at, key_id, signature FROM audit_checkpoint WHERE position > $1::bigint AND position <= $2::bigint ORDER BY audit_checkpoint.position",
            [after.toString(), upto.toString()],
          ),
        ];
        count += rows.length;
        after = upto;
        controller.enqueue(encoder.encode(emit.rows(rows, checkpoints)));
      } catch (err) {
        await finish();
        controller.error(err);
      }
    },
    async cancel() {
      await finish();
    },
  });
}

function ndjsonStream(client: pg.PoolClient, range: TRange, from: string | null, to: string | null) {
  const key = getAuditSigningKey();
  return batchedStream(client, range, {
    head: () => {
      const header = {
        type: "header",
        format: BUNDLE_FORMAT,
        version: BUNDLE_VERSION,
        exportedAt: new Date().toISOString(),
        requested: { from, to },
        firstPosition: range ? range.first.toString() : null,
        lastPosition: range ? range.last.toString() : null,
        keyId: key.keyId,
        publicKey: key.publicKeyPem,
      };
      return [header, ...(range?.anchor ? [checkpointLine(range.anchor)] : [])].map((l) => `${JSON.stringify(l)}\n`).join("");
    },
    rows: (rows, checkpoints) => {
      let out = "";
      let cp = 0;
      for (const r of rows) {
        out += `${JSON.stringify({ type: "event", position: r.position, prevHash: r.prev_hash, hash: r.hash, event: toChainEvent(r) })}\n`;
        while (cp < checkpoints.length && checkpoints[cp]!.position === r.position) out += `${JSON.stringify(checkpointLine(checkpoints[cp++]!))}\n`;
      }
      return out;
    },
    tail: (count) => `${JSON.stringify({ type: "trailer", events: count })}\n`,
  });
}

const CSV_COLUMNS = ["position", "hash", "seq", "id", "occurredAt", "actorType", "actorId", "actorRole", "action", "targetType", "targetId", "outcome", "reason", "requestId", "ip", "userAgent", "payload"];

function csvStream(client: pg.PoolClient, range: TRange) {
  return batchedStream(client, range, {
    head: () => stringify([CSV_COLUMNS]),
    rows: (rows) =>
      stringify(
        rows.map((r) => {
          const e = toChainEvent(r);
          return [r.position, r.hash, e.seq, e.id, e.occurredAt, e.actorType, e.actorId, e.actorRole, e.action, e.targetType, e.targetId, e.outcome, e.reason, e.requestId, e.ip, e.userAgent, JSON.stringify(e.payload)];
        }),
        // User agents and reasons are caller-controlled: neutralise spreadsheet formulas.
        { escape_formulas: true },
      ),
    tail: () => "",
  });
}
