import type pg from "pg";
import { ChainVerifier, chainRecord, hashRecord, type TJson, type TVerifyResult } from "./chain-core.mjs";
import { CHAIN_EVENT_COLUMNS, toChainEvent, type TAuditEventRow } from "./to-chain-event";
import { copyRows, type TCopyField } from "./verify-copy-rows";

type TChainRow = TAuditEventRow & { position: string; prev_hash: string; hash: string; event_seq: string; event_present: boolean };
type TCheckpointRow = { position: string; hash: string; created_at: Date; key_id: string; signature: string };

export type TVerifyOptions = {
  /** Trusted checkpoint public keys (PEM): the current signing key and any earlier ones. */
  publicKeys: string[];
  /** Chain positions per COPY statement. */
  batchSize?: number;
  onProgress?: (verified: number) => void;
};

export type TDbVerifyResult = TVerifyResult & { pendingEvents: number };

// The chain columns, then CHAIN_EVENT_COLUMNS in its order (seq … payload); all NULL when the
// event was removed. COPY writes jsonb in its text form, which is also what ::text gives.
const COPY_COLUMNS = `c.position, c.prev_hash, c.hash, c.event_seq, ${CHAIN_EVENT_COLUMNS}`;
const COPY_FIELD_COUNT = 19;

/** A COPY row as the row shape toChainEvent and diagnose read. */
function toChainRow(f: TCopyField[]): TChainRow {
  if (f.length !== COPY_FIELD_COUNT) throw new Error(`expected ${COPY_FIELD_COUNT} columns in the chain's COPY output, got ${f.length}`);
  const at = (i: number) => f[i] as TCopyField;
  // Columns that are NOT NULL in their tables; the event's are NULL only when it was removed,
  // which event_present reports before anything reads them.
  const text = (i: number) => f[i] as string;
  const payload = at(18);
  return {
    position: text(0),
    prev_hash: text(1),
    hash: text(2),
    event_seq: text(3),
    event_present: at(4) !== null,
    seq: text(4),
    id: text(5),
    occurred_at: text(6),
    actor_type: text(7),
    actor_id: at(8),
    actor_role: at(9),
    action: text(10),
    target_type: at(11),
    target_id: at(12),
    outcome: text(13),
    reason: at(14),
    request_id: at(15),
    ip: at(16),
    user_agent: at(17),
    payload: payload === null ? null : (JSON.parse(payload) as TJson),
  };
}

/**
 * Recomputes the whole chain from the database: every link, every event's hash, every
 * checkpoint signature, and that no event older than the chain head was left out. Streams
 * the chain with COPY in position windows, hashing each row as it arrives, so memory stays
 * flat whatever the table size. Stops at the first problem and names its chain position and
 * reason.
 */
export async function verifyAuditChain(pool: pg.Pool, options: TVerifyOptions): Promise<TDbVerifyResult> {
  const batchSize = BigInt(options.batchSize ?? 10_000);
  const verifier = new ChainVerifier({ publicKeys: options.publicKeys });
  const client = await pool.connect();
  try {
    // Chain rows and checkpoints are append-only, so walking up to the head read now is
    // consistent without holding a snapshot open (which would stall writers on the embedded
    // database, where one backend serves every connection).
    const { rows: headRows } = await client.query<{ head: string | null }>("SELECT max(position)::text AS head FROM audit_chain");
    const headN = BigInt(headRows[0]?.head ?? "0");
    let after = 0n;
    let verified = 0;
    while (after < headN && !verifier.failure) {
      const to = after + batchSize < headN ? after + batchSize : headN;
      const { rows: checkpoints } = await client.query<TCheckpointRow>(
        `SELECT position::text AS position, hash, created_at, key_id, signature FROM audit_checkpoint
          WHERE position > $1::bigint AND position <= $2::bigint ORDER BY audit_checkpoint.position`,
        [after.toString(), to.toString()],
      );
      let cp = 0;
      let rows = 0;
      let broken: TChainRow | undefined;
      // The plan this asks for streams: the chain's primary key in order, each event looked up
      // by its own (the LIMIT keeps the planner from turning the lateral join into a hash join,
      // which scans the whole event table once per window and sorts before the first row). JIT
      // would compile each window's plan anew for longer than the window takes to run; SET LOCAL
      // lasts only for this statement's implicit transaction. COPY takes no parameters: the
      // bounds are integers computed here.
      await copyRows(
        client,
        `SET LOCAL jit = off;
         COPY (SELECT ${COPY_COLUMNS} FROM audit_chain c LEFT JOIN LATERAL (SELECT * FROM audit_event e WHERE e.seq = c.event_seq LIMIT 1) e ON true
                WHERE c.position > ${after} AND c.position <= ${to} ORDER BY c.position) TO STDOUT`,
        (fields) => {
          const row = toChainRow(fields);
          rows++;
          if (!row.event_present) {
            verifier.fail(row.position, "missing_event", `the audit event (seq ${row.event_seq}) sealed at this position has been removed`);
            return false;
          }
          if (!verifier.addEvent({ position: row.position, prevHash: row.prev_hash, hash: row.hash, event: toChainEvent(row) })) {
            broken = row;
            return false;
          }
          while (cp < checkpoints.length && checkpoints[cp]!.position === row.position) {
            const c = checkpoints[cp++]!;
            if (!verifier.addCheckpoint({ position: c.position, hash: c.hash, createdAt: c.created_at.toISOString(), keyId: c.key_id, signature: c.signature })) return false;
          }
          return true;
        },
      );
      if (broken) await diagnose(client, verifier, broken);
      if (!verifier.failure && cp < checkpoints.length) {
        verifier.fail(checkpoints[cp]!.position, "checkpoint_mismatch", "a checkpoint names a chain position that does not exist");
      }
      if (verifier.failure) break;
      verified += rows;
      options.onProgress?.(verified);
      after = to;
    }
    // A checkpoint beyond the head means sealed rows were removed from the end of the chain.
    if (!verifier.failure) {
      const { rows: beyond } = await client.query<{ position: string }>(
        `SELECT position::text AS position FROM audit_checkpoint
          WHERE position > $1::bigint AND position > (SELECT coalesce(max(position), 0) FROM audit_chain)
          ORDER BY audit_checkpoint.position LIMIT 1`,
        [after.toString()],
      );
      if (beyond[0]) verifier.fail(beyond[0].position, "missing_event", "a signed checkpoint covers chain positions that no longer exist");
    }
    if (!verifier.failure) {
      // Events that committed before the head's transaction yet are not in the chain were
      // inserted behind the sealer's back.
      const { rows: skipped } = await client.query<{ seq: string }>(
        `SELECT e.seq::text AS seq FROM audit_event e
          WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_seq = e.seq)
            AND (e.txid, e.seq) < (SELECT h.txid, h.seq FROM audit_chain hc JOIN audit_event h ON h.seq = hc.event_seq ORDER BY hc.position DESC LIMIT 1)
          LIMIT 1`,
      );
      if (skipped[0]) verifier.fail(String(after + 1n), "unsealed_event", `audit event seq ${skipped[0].seq} is older than the chain head but was never sealed`);
    }
    const { rows: pending } = await client.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM audit_event e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_seq = e.seq)",
    );
    return { ...verifier.finish(), pendingEvents: verifier.failure ? 0 : Number(pending[0]!.n) };
  } finally {
    client.release();
  }
}

/**
 * Names what kind of change broke the chain at a position: the stored hash was edited (the
 * next link still points at the recomputed one), the event was edited, or the event belongs
 * at another position (events swapped or moved).
 */
async function diagnose(client: pg.PoolClient, verifier: ChainVerifier, row: TChainRow) {
  const failure = verifier.failure!;
  if (failure.reason !== "changed_event") return;
  const recomputed = hashRecord(chainRecord(row.position, row.prev_hash, toChainEvent(row)));
  const { rows: next } = await client.query<{ prev_hash: string }>(
    "SELECT prev_hash FROM audit_chain WHERE position > $1::bigint ORDER BY audit_chain.position LIMIT 1",
    [row.position],
  );
  if (next[0] && next[0].prev_hash === recomputed) {
    failure.reason = "changed_hash";
    failure.detail = "the hash stored at this position was changed; the event itself matches the chain";
    return;
  }
  const { rows: window } = await client.query<{ position: string; prev_hash: string; hash: string }>(
    "SELECT position::text AS position, prev_hash, hash FROM audit_chain WHERE position >= $1::bigint - 1000 AND position <= $1::bigint + 1000 AND position <> $1::bigint ORDER BY audit_chain.position",
    [row.position],
  );
  const event = toChainEvent(row);
  const home = window.find((w) => hashRecord(chainRecord(w.position, w.prev_hash, event)) === w.hash);
  if (home) {
    failure.reason = "reordered";
    failure.detail = `the event found here (seq ${row.seq}) was sealed at position ${home.position}: events were swapped or moved`;
  }
}
