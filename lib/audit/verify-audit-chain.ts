import type pg from "pg";
import { ChainVerifier, chainRecord, hashRecord, type TVerifyResult } from "./chain-core.mjs";
import { CHAIN_EVENT_COLUMNS, toChainEvent, type TAuditEventRow } from "./to-chain-event";

type TChainRow = TAuditEventRow & { position: string; prev_hash: string; hash: string; event_seq: string; event_present: boolean };
type TCheckpointRow = { position: string; hash: string; created_at: Date; key_id: string; signature: string };

export type TVerifyOptions = {
  /** Trusted checkpoint public keys (PEM): the current signing key and any earlier ones. */
  publicKeys: string[];
  batchSize?: number;
  onProgress?: (verified: number) => void;
};

export type TDbVerifyResult = TVerifyResult & { pendingEvents: number };

/**
 * Recomputes the whole chain from the database: every link, every event's hash, every
 * checkpoint signature, and that no event older than the chain head was left out. Streams
 * in keyset batches, so memory stays flat whatever the table size. Stops at the first
 * problem and names its chain position and reason.
 */
export async function verifyAuditChain(pool: pg.Pool, options: TVerifyOptions): Promise<TDbVerifyResult> {
  const batchSize = options.batchSize ?? 10_000;
  const verifier = new ChainVerifier({ publicKeys: options.publicKeys });
  const client = await pool.connect();
  try {
    // Chain rows and checkpoints are append-only, so walking up to the head read now is
    // consistent without holding a snapshot open (which would stall writers on the embedded
    // database, where one backend serves every connection).
    const { rows: headRows } = await client.query<{ head: string | null }>("SELECT max(position)::text AS head FROM audit_chain");
    const head = headRows[0]?.head ?? "0";
    const headN = BigInt(head);
    // Fixed position windows, so the next window's rows can be requested before this one is
    // hashed: Postgres reads while Node hashes (the two are the cost of a verification).
    const fetchWindow = (from: bigint) => {
      const to = from + BigInt(batchSize) < headN ? from + BigInt(batchSize) : headN;
      return Promise.all([
        client.query<TChainRow>(
          `SELECT c.position::text AS position, c.prev_hash, c.hash, c.event_seq::text AS event_seq, (e.seq IS NOT NULL) AS event_present, ${CHAIN_EVENT_COLUMNS}
             FROM audit_chain c LEFT JOIN audit_event e ON e.seq = c.event_seq
            WHERE c.position > $1::bigint AND c.position <= $2::bigint
            ORDER BY c.position`,
          [from.toString(), to.toString()],
        ),
        client.query<TCheckpointRow>(
          `SELECT position::text AS position, hash, created_at, key_id, signature FROM audit_checkpoint
            WHERE position > $1::bigint AND position <= $2::bigint ORDER BY audit_checkpoint.position`,
          [from.toString(), to.toString()],
        ),
      ]).then(([r, c]) => ({ rows: r.rows, checkpoints: c.rows, to }));
    };
    let after = 0n;
    let verified = 0;
    let next = headN > 0n ? fetchWindow(0n) : null;
    while (next) {
      const { rows, checkpoints, to } = await next;
      next = to < headN ? fetchWindow(to) : null;
      let cp = 0;
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        if (!row.event_present) {
          verifier.fail(row.position, "missing_event", `the audit event (seq ${row.event_seq}) sealed at this position has been removed`);
          break;
        }
        if (!verifier.addEvent({ position: row.position, prevHash: row.prev_hash, hash: row.hash, event: toChainEvent(row) })) {
          await next?.catch(() => undefined);
          next = null;
          await diagnose(client, verifier, row, rows[i + 1]);
          break;
        }
        while (cp < checkpoints.length && checkpoints[cp]!.position === row.position) {
          const c = checkpoints[cp++]!;
          if (!verifier.addCheckpoint({ position: c.position, hash: c.hash, createdAt: c.created_at.toISOString(), keyId: c.key_id, signature: c.signature })) break;
        }
        if (verifier.failure) break;
      }
      if (!verifier.failure && cp < checkpoints.length) {
        verifier.fail(checkpoints[cp]!.position, "checkpoint_mismatch", "a checkpoint names a chain position that does not exist");
      }
      if (verifier.failure) {
        await next?.catch(() => undefined);
        break;
      }
      verified += rows.length;
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
async function diagnose(client: pg.PoolClient, verifier: ChainVerifier, row: TChainRow, next: TChainRow | undefined) {
  const failure = verifier.failure!;
  if (failure.reason !== "changed_event") return;
  const recomputed = hashRecord(chainRecord(row.position, row.prev_hash, toChainEvent(row)));
  if (next && next.prev_hash === recomputed) {
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
