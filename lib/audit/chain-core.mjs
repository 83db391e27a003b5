// The audit chain's format and its verification, in plain JavaScript so that the standalone
// verifier (bin/tether-audit-verify.mjs) and the server share one implementation, and an
// outsider can run it with Node alone. docs/audit-format.md specifies the same rules in prose.
//
// Each chain position seals one audit event:
//   hash(p) = SHA-256( RFC 8785 canonical JSON of { v, position, prevHash, event } )
// with prevHash(1) = 64 zeros. Checkpoints are Ed25519 signatures over the canonical JSON of
// { v, type, position, hash, createdAt, keyId }.
import crypto, { createHash, createPublicKey, sign as edSign, verify as edVerify } from "node:crypto";

export const CHAIN_VERSION = 1;
export const GENESIS_HASH = "0".repeat(64);
export const CHECKPOINT_TYPE = "tether.audit.checkpoint";

// RFC 8785 (JCS) defines canonical JSON in terms of ECMAScript's own JSON.stringify for
// strings and numbers, with object members sorted by UTF-16 code units (the default order of
// Array.prototype.sort on strings). That makes the serializer a few lines; it is written out
// here rather than taken from the `canonicalize` package because hashing is the verifier's
// hot path and this is 2.5 times faster. tests/unit/audit-chain-core.test.ts checks it against
// `canonicalize` and the RFC's own test vectors.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// What JSON.stringify would escape (quote, backslash, control characters) and surrogates (which
// need the lone-surrogate check). A string free of them serialises as itself in quotes, which
// skips both the check and JSON.stringify for nearly every string of an audit event.
const NEEDS_ESCAPE_OR_CHECK = /["\\\u0000-\u001f\ud800-\udfff]/;

function serializeString(value) {
  if (!NEEDS_ESCAPE_OR_CHECK.test(value)) return `"${value}"`;
  if (LONE_SURROGATE.test(value)) throw new Error("strings with lone surrogates cannot be canonicalised (RFC 8785 §3.2.2.2)");
  return JSON.stringify(value);
}

function serialize(value) {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return serializeString(value);
    case "number":
      if (!Number.isFinite(value)) throw new Error("NaN and Infinity cannot be canonicalised");
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (typeof value.toJSON === "function") return serialize(value.toJSON());
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          if (i) out += ",";
          // As JSON.stringify does: array holes and undefined become null.
          out += value[i] === undefined || typeof value[i] === "function" ? "null" : serialize(value[i]);
        }
        return `${out}]`;
      }
      const keys = Object.keys(value).sort();
      let out = "{";
      let first = true;
      for (const key of keys) {
        const member = value[key];
        if (member === undefined || typeof member === "function") continue;
        if (!first) out += ",";
        first = false;
        out += serializeString(key);
        out += ":";
        out += serialize(member);
      }
      return `${out}}`;
    }
    default:
      throw new Error(`a ${typeof value} cannot be canonicalised`);
  }
}

/** Canonical JSON text (RFC 8785) of a JSON value. */
export function canonicalJson(value) {
  return serialize(value);
}

/** Canonical bytes (RFC 8785, UTF-8) of a JSON value. */
export function canonicalBytes(value) {
  return Buffer.from(serialize(value), "utf8");
}

// crypto.hash (Node 20.12+) hashes a string as UTF-8 without a Hash object or an intermediate
// Buffer; older Nodes, which an outsider may run the offline verifier on, take the long way.
const oneShotHash = typeof crypto.hash === "function" ? crypto.hash : null;

/** SHA-256, hex, of bytes or of a string's UTF-8 encoding. */
export function sha256Hex(bytes) {
  return oneShotHash ? oneShotHash("sha256", bytes, "hex") : createHash("sha256").update(bytes).digest("hex");
}

/** The record hashed at a chain position. `event` must already be plain JSON. */
export function chainRecord(position, prevHash, event) {
  return { v: CHAIN_VERSION, position: String(position), prevHash, event };
}

export function hashRecord(record) {
  return sha256Hex(serialize(record));
}

// The fifteen fields of an audit event in canonical (sorted) order. Events of exactly this
// shape are serialised field by field, skipping the generic sort; anything else takes the
// generic path. Both produce the same bytes (tests/unit/audit-chain-core.test.ts).
const EVENT_KEYS = ["action", "actorId", "actorRole", "actorType", "id", "ip", "occurredAt", "outcome", "payload", "reason", "requestId", "seq", "targetId", "targetType", "userAgent"];

function hasEventShape(event) {
  let n = 0;
  for (const key in event) {
    if (!Object.prototype.hasOwnProperty.call(event, key)) continue;
    n++;
    const v = event[key];
    if (key !== "payload" && v !== null && typeof v !== "string") return false;
  }
  if (n !== EVENT_KEYS.length) return false;
  for (const key of EVENT_KEYS) if (!Object.prototype.hasOwnProperty.call(event, key)) return false;
  return true;
}

/** SHA-256 of the chain record at a position: same result as hashRecord(chainRecord(...)), faster. */
export function hashChainEntry(position, prevHash, event) {
  if (typeof prevHash !== "string" || !hasEventShape(event)) return hashRecord(chainRecord(position, prevHash, event));
  let out = '{"event":{';
  for (let i = 0; i < EVENT_KEYS.length; i++) {
    const key = EVENT_KEYS[i];
    if (i) out += ",";
    out += `"${key}":`;
    const v = event[key];
    out += v === null ? "null" : typeof v === "string" ? serializeString(v) : serialize(v);
  }
  out += `},"position":${serializeString(String(position))},"prevHash":${serializeString(prevHash)},"v":${CHAIN_VERSION}}`;
  return sha256Hex(out);
}

/** Key id: the first 16 hex digits of SHA-256 over the public key's SPKI DER encoding. */
export function keyIdOf(publicKey) {
  const key = typeof publicKey === "string" ? createPublicKey(publicKey) : publicKey;
  return sha256Hex(key.export({ type: "spki", format: "der" })).slice(0, 16);
}

export function checkpointStatement({ position, hash, createdAt, keyId }) {
  return { v: CHAIN_VERSION, type: CHECKPOINT_TYPE, position: String(position), hash, createdAt, keyId };
}

export function signCheckpoint(statement, privateKey) {
  return edSign(null, canonicalBytes(statement), privateKey).toString("base64");
}

export function verifyCheckpointSignature(statement, signature, publicKey) {
  try {
    return edVerify(null, canonicalBytes(statement), publicKey, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}

/**
 * Streaming verifier: feed chain entries in order ({position, prevHash, hash, event}) and
 * checkpoints ({position, hash, createdAt, keyId, signature}); it keeps O(1) state and stops
 * at the first problem, naming the position and the reason.
 */
export class ChainVerifier {
  /**
   * @param {{ publicKey?: import("node:crypto").KeyObject | string, publicKeys?: Array<import("node:crypto").KeyObject | string>, startPosition?: bigint, startPrevHash?: string }} [options]
   * startPosition / startPrevHash: where a partial range begins (defaults: 1 and the genesis hash).
   */
  constructor(options = {}) {
    const keys = [options.publicKey, ...(options.publicKeys ?? [])].filter(Boolean).map((k) => (typeof k === "string" ? createPublicKey(k) : k));
    /** Trusted checkpoint keys by key id (several after a key rotation). */
    this.keys = new Map(keys.map((k) => [keyIdOf(k), k]));
    this.expectedPosition = options.startPosition ?? 1n;
    this.prevHash = options.startPrevHash ?? (this.expectedPosition === 1n ? GENESIS_HASH : null);
    this.anchored = this.prevHash !== null;
    this.lastHash = null;
    this.lastPosition = this.expectedPosition - 1n;
    this.events = 0;
    this.checkpoints = 0;
    this.pendingCheckpoints = new Map();
    this.failure = null;
    this.firstCheckpoint = null;
    this.lastCheckpoint = null;
  }

  fail(position, reason, detail) {
    this.failure ??= { position: String(position), reason, detail };
    return false;
  }

  /** An event entry. Returns false once the chain is broken (see `failure`). */
  addEvent(entry) {
    if (this.failure) return false;
    const position = BigInt(entry.position);
    if (position < this.expectedPosition) return this.fail(position, "reordered", `position ${position} appears after position ${this.lastPosition}`);
    if (position > this.expectedPosition) return this.fail(this.expectedPosition, "missing_event", `positions ${this.expectedPosition}…${position - 1n} are missing`);
    if (this.prevHash !== null && entry.prevHash !== this.prevHash) {
      return this.fail(position, "broken_link", "the previous hash recorded here does not match the hash of the event before it (an event was changed, removed or inserted)");
    }
    // Formatted once: the hashed record and the checkpoint lookup both use the decimal text.
    const positionText = String(position);
    const computed = hashChainEntry(positionText, entry.prevHash, entry.event);
    if (computed !== entry.hash) return this.fail(position, "changed_event", "the event's content does not match its recorded hash");
    this.prevHash = entry.hash;
    this.lastHash = entry.hash;
    this.lastPosition = position;
    this.expectedPosition = position + 1n;
    this.events++;
    const pending = this.pendingCheckpoints.size ? this.pendingCheckpoints.get(positionText) : undefined;
    if (pending) {
      this.pendingCheckpoints.delete(positionText);
      return this.matchCheckpoint(pending, entry.hash);
    }
    return true;
  }

  /** A signed checkpoint. Anchors the start of a partial range when it sits just before it. */
  addCheckpoint(cp) {
    if (this.failure) return false;
    const position = BigInt(cp.position);
    const statement = checkpointStatement(cp);
    if (this.keys.size === 0) return this.fail(position, "bad_checkpoint_signature", "no public key to check the checkpoint with");
    const key = this.keys.get(cp.keyId);
    if (!key) return this.fail(position, "bad_checkpoint_signature", `checkpoint signed by key ${cp.keyId}, which is not a trusted key (${[...this.keys.keys()].join(", ")})`);
    if (!verifyCheckpointSignature(statement, cp.signature, key)) return this.fail(position, "bad_checkpoint_signature", "the checkpoint's signature is not valid");
    this.checkpoints++;
    this.firstCheckpoint ??= { position: String(position), hash: cp.hash };
    this.lastCheckpoint = { position: String(position), hash: cp.hash };
    if (position === this.expectedPosition - 1n && this.prevHash === null) {
      this.anchored = true;
      this.prevHash = cp.hash; // anchors a range that starts right after this checkpoint
      return true;
    }
    if (this.lastHash !== null && position === this.lastPosition) return this.matchCheckpoint(cp, this.lastHash);
    // Checkpoints must come right after the event at their position (or just before a range
    // they anchor); one for a position already passed cannot be checked any more.
    if (position < this.lastPosition) return this.fail(position, "reordered", `checkpoint for position ${position} appears after position ${this.lastPosition}`);
    this.pendingCheckpoints.set(String(position), cp);
    return true;
  }

  matchCheckpoint(cp, hash) {
    if (cp.hash !== hash) return this.fail(cp.position, "checkpoint_mismatch", "the chain's hash at this position differs from the signed checkpoint");
    return true;
  }

  /** Call after the last entry. */
  finish() {
    if (!this.failure && !this.anchored && this.events > 0) {
      this.fail(this.lastPosition - BigInt(this.events) + 1n, "unanchored", "the range does not start at position 1 and no checkpoint anchors its start");
    }
    if (!this.failure) {
      // Every checkpoint must have met its event; one beyond the last event means events were
      // cut off the end while their checkpoint was left in.
      for (const [position] of this.pendingCheckpoints) {
        this.fail(position, BigInt(position) <= this.lastPosition ? "checkpoint_mismatch" : "missing_event", "checkpoint position not found in the chain");
        break;
      }
    }
    return {
      ok: this.failure === null,
      events: this.events,
      checkpoints: this.checkpoints,
      firstPosition: this.events ? String(this.lastPosition - BigInt(this.events) + 1n) : null,
      lastPosition: this.events ? String(this.lastPosition) : null,
      lastHash: this.lastHash,
      firstCheckpoint: this.firstCheckpoint,
      lastCheckpoint: this.lastCheckpoint,
      failure: this.failure,
    };
  }
}
