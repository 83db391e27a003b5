import type pg from "pg";
import { GENESIS_HASH, checkpointStatement, hashChainEntry, signCheckpoint } from "./chain-core.mjs";
import type { TSigningKey } from "./signing-key";
import { CHAIN_EVENT_COLUMNS, toChainEvent, type TAuditEventRow } from "./to-chain-event";

// The ordered sealer. Audit events are inserted without any lock (so audited actions run at
// the speed of plain inserts); this links committed events into the hash chain shortly after.
//
// Order: by (inserting transaction id, seq). An event is linked only once every transaction
// older than its own has finished (txid < the snapshot's xmin), so no event can commit "behind"
// the chain head later: the chain has no gaps, and an event that commits late is linked in
// the next round. One sealer at a time, anywhere, by a transaction-scoped advisory lock.

const SEALER_LOCK = 7_311_202_401; // arbitrary, fixed: pg_advisory lock key of the sealer

export type TSealOptions = {
  batchSize?: number;
  signingKey?: TSigningKey | null;
  /** Sign a checkpoint after this many newly linked events… */
  checkpointEvery?: number;
  /** …or when the head is unsigned and the last checkpoint is older than this. */
  checkpointSeconds?: number;
};

export type TSealResult = { sealed: number; headPosition: string | null; checkpoint: string | null; lockHeld: boolean };

export async function sealAuditChain(pool: pg.Pool, options: TSealOptions = {}): Promise<TSealResult> {
  const batchSize = options.batchSize ?? 5000;
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const { rows: lock } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock($1) AS ok", [SEALER_LOCK]);
    if (!lock[0]!.ok) {
      await client.query("ROLLBACK");
      return { sealed: 0, headPosition: null, checkpoint: null, lockHeld: true };
    }
    const { rows: heads } = await client.query<{ position: string; hash: string; txid: string | null; seq: string }>(
      `SELECT c.position::text AS position, c.hash, e.txid::text AS txid, c.event_seq::text AS seq
         FROM audit_chain c LEFT JOIN audit_event e ON e.seq = c.event_seq
        ORDER BY c.position DESC LIMIT 1`,
    );
    const head = heads[0];
    if (head && head.txid === null) {
      throw new Error(`The audit event sealed at chain position ${head.position} is missing; sealing stopped. Run \`npm run audit:verify\`.`);
    }
    const { rows } = await client.query<TAuditEventRow>(
      `SELECT ${CHAIN_EVENT_COLUMNS}
         FROM audit_event e
        WHERE (e.txid, e.seq) > ($1::text::xid8, $2::bigint)
          AND e.txid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY e.txid, e.seq
        LIMIT $3`,
      [head?.txid ?? "0", head?.seq ?? "0", batchSize],
    );

    let position = BigInt(head?.position ?? "0");
    let prevHash = head?.hash ?? GENESIS_HASH;
    const positions: string[] = [];
    const seqs: string[] = [];
    const prevs: string[] = [];
    const hashes: string[] = [];
    for (const row of rows) {
      position += 1n;
      const hash = hashChainEntry(position, prevHash, toChainEvent(row));
      positions.push(position.toString());
      seqs.push(String(row.seq));
      prevs.push(prevHash);
      hashes.push(hash);
      prevHash = hash;
    }
    if (rows.length) {
      await client.query(
        `INSERT INTO audit_chain (position, event_seq, prev_hash, hash)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])`,
        [positions, seqs, prevs, hashes],
      );
    }
    const key = options.signingKey;
    const checkpoint = key ? await maybeCheckpoint(client, position, prevHash, { ...options, signingKey: key }) : null;
    await client.query("COMMIT");
    return { sealed: rows.length, headPosition: position > 0n ? position.toString() : null, checkpoint, lockHeld: false };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

async function maybeCheckpoint(client: pg.PoolClient, headPosition: bigint, headHash: string, options: TSealOptions & { signingKey: TSigningKey }): Promise<string | null> {
  if (headPosition === 0n) return null;
  const { rows } = await client.query<{ position: string; created_at: Date }>(
    "SELECT position::text AS position, created_at FROM audit_checkpoint ORDER BY audit_checkpoint.position DESC LIMIT 1",
  );
  const last = rows[0];
  const lastPosition = BigInt(last?.position ?? "0");
  if (headPosition <= lastPosition) return null;
  const dueByCount = headPosition - lastPosition >= BigInt(options.checkpointEvery ?? 1000);
  const dueByTime = !last || Date.now() - last.created_at.getTime() >= (options.checkpointSeconds ?? 60) * 1000;
  if (!dueByCount && !dueByTime) return null;
  const key = options.signingKey;
  const createdAt = new Date().toISOString();
  const statement = checkpointStatement({ position: headPosition, hash: headHash, createdAt, keyId: key.keyId });
  await client.query(
    "INSERT INTO audit_checkpoint (position, hash, created_at, key_id, public_key, signature) VALUES ($1, $2, $3, $4, $5, $6)",
    [headPosition.toString(), headHash, createdAt, key.keyId, key.publicKeyPem, signCheckpoint(statement, key.privateKey)],
  );
  return headPosition.toString();
}
