// The audit chain's format and offline verification (lib/audit/chain-core.mjs), without a
// database: RFC 8785 canonical JSON, hash linking, Ed25519 checkpoints, and every kind of
// tampering a bundle (docs/audit-format.md) can suffer, fed to ChainVerifier in bundle order
// the way bin/tether-audit-verify.mjs does.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CHAIN_VERSION,
  CHECKPOINT_TYPE,
  ChainVerifier,
  GENESIS_HASH,
  canonicalBytes,
  chainRecord,
  checkpointStatement,
  hashRecord,
  keyIdOf,
  sha256Hex,
  signCheckpoint,
  verifyCheckpointSignature,
  type TChainEvent,
  type TCheckpoint,
  type TVerifyFailureReason,
  type TVerifyResult,
} from "@/lib/audit/chain-core.mjs";
import { toChainEvent, type TAuditEventRow } from "@/lib/audit/to-chain-event";

const canon = (value: unknown) => canonicalBytes(value).toString("utf8");
/** An IEEE 754 double from its 16 hex digits (RFC 8785 Appendix B lists them so). */
const double = (hex: string) => Buffer.from(hex, "hex").readDoubleBE(0);

describe("canonical JSON (RFC 8785)", () => {
  it("matches the RFC's primitive-data example (§3.2.2)", () => {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    expect(canon(JSON.parse(input))).toBe(String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`);
  });

  it("sorts keys by UTF-16 code units, not code points (§3.2.3), and encodes UTF-8 (§3.2.4)", () => {
    const input = String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    const bytes = canonicalBytes(JSON.parse(input));
    // U+1F600 (surrogates D83D DE00) sorts before U+FB33: by code point it would come after.
    expect(bytes.toString("utf8")).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    // The byte listing printed in §3.2.4.
    const rfcBytes = `7b 22 5c 72 22 3a 22 43 61 72 72 69 61 67 65 20 52 65 74 75 72 6e 22 2c 22 31 22 3a 22 4f 6e 65 22 2c 22 c2 80 22 3a 22 43 6f 6e 74 72 6f 6c 22 2c
      22 c3 b6 22 3a 22 4c 61 74 69 6e 20 53 6d 61 6c 6c 20 4c 65 74 74 65 72 20 4f 20 57 69 74 68 20 44 69 61 65 72 65 73 69 73 22 2c 22 e2 82 ac 22 3a 22 45
      75 72 6f 20 53 69 67 6e 22 2c 22 f0 9f 98 80 22 3a 22 45 6d 6f 6a 69 3a 20 47 72 69 6e 6e 69 6e 67 20 46 61 63 65 22 2c 22 ef ac b3 22 3a 22 48 65 62 72
      65 77 20 4c 65 74 74 65 72 20 44 61 6c 65 74 20 57 69 74 68 20 44 61 67 65 73 68 22 7d`;
    expect(bytes.toString("hex")).toBe(rfcBytes.replace(/\s+/g, ""));
  });

  it("serialises numbers like ECMAScript (Appendix B test vectors)", () => {
    const vectors: Array<[string, string]> = [
      ["0000000000000000", "0"],
      ["8000000000000000", "0"], // -0
      ["0000000000000001", "5e-324"],
      ["8000000000000001", "-5e-324"],
      ["7fefffffffffffff", "1.7976931348623157e+308"],
      ["ffefffffffffffff", "-1.7976931348623157e+308"],
      ["4340000000000000", "9007199254740992"],
      ["c340000000000000", "-9007199254740992"],
      ["4430000000000000", "295147905179352830000"],
      ["44b52d02c7e14af5", "9.999999999999997e+22"],
      ["44b52d02c7e14af6", "1e+23"],
      ["44b52d02c7e14af7", "1.0000000000000001e+23"],
      ["444b1ae4d6e2ef4e", "999999999999999700000"],
      ["444b1ae4d6e2ef4f", "999999999999999900000"],
      ["444b1ae4d6e2ef50", "1e+21"],
      ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
      ["3eb0c6f7a0b5ed8d", "0.000001"],
      ["41b3de4355555553", "333333333.3333332"],
      ["41b3de4355555554", "333333333.33333325"],
      ["41b3de4355555555", "333333333.3333333"],
      ["41b3de4355555556", "333333333.3333334"],
      ["41b3de4355555557", "333333333.33333343"],
      ["becbf647612f3696", "-0.0000033333333333333333"],
      ["43143ff3c1cb0959", "1424953923781206.2"],
    ];
    for (const [hex, text] of vectors) expect(canon(double(hex)), hex).toBe(text);
    expect(canon([1e21, 1e20, 1e-7, 1e-6, -0, 333333333.33333329, 4.5, 100, 0.1])).toBe("[1e+21,100000000000000000000,1e-7,0.000001,0,333333333.3333333,4.5,100,0.1]");
  });

  it("refuses values JSON cannot represent", () => {
    expect(() => canonicalBytes(NaN)).toThrow();
    expect(() => canonicalBytes({ a: [Infinity] })).toThrow();
    expect(() => canonicalBytes("\ud83d")).toThrow(); // a lone surrogate has no UTF-8 encoding
    expect(() => canonicalBytes(undefined)).toThrow(/cannot be canonicalised/);
  });

  it("escapes control characters, quote and backslash only", () => {
    const all = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join("");
    expect(canon(all)).toBe(
      String.raw`"\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f"`,
    );
    expect(canon('"\\/\u007f\u2028é')).toBe('"\\"\\\\/\u007f\u2028é"');
  });

  it("sorts nested objects, keeps array order and drops all whitespace", () => {
    const value = JSON.parse('{ "b": [ { "z": 1, "a": [3, { "y": null, "x": true }] }, [], {} ], "a": { "c": "", "B": -1.5, "A": 0 } }');
    expect(canon(value)).toBe('{"a":{"A":0,"B":-1.5,"c":""},"b":[{"a":[3,{"x":true,"y":null}],"z":1},[],{}]}');
  });

  it("is UTF-8 bytes, and SHA-256 is lowercase hex", () => {
    const bytes = canonicalBytes({ k: "é😀" });
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(bytes.toString("hex")).toBe("7b226b223a22" + "c3a9" + "f09f9880" + "227d"); // {"k":"é😀"}
    expect(sha256Hex(Buffer.from("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

// ---------------------------------------------------------------------------------------------
// Chains in memory

type TKey = { publicKey: KeyObject; privateKey: KeyObject; keyId: string; pem: string };
type TEventLine = { type: "event"; position: string; prevHash: string; hash: string; event: TChainEvent };
type TCheckpointLine = { type: "checkpoint" } & TCheckpoint & { position: string };
type TLine = TEventLine | TCheckpointLine;

function makeKey(): TKey {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  return { publicKey, privateKey, keyId: keyIdOf(publicKey), pem: publicKey.export({ type: "spki", format: "pem" }).toString() };
}

function row(position: number): TAuditEventRow {
  return {
    seq: BigInt(1000 + position),
    id: `00000000-0000-4000-8000-${String(position).padStart(12, "0")}`,
    occurred_at: new Date(Date.UTC(2026, 10, 26, 9, 0, position)),
    actor_type: position % 3 === 0 ? "system" : "user",
    actor_id: position % 3 === 0 ? null : `user-${position % 4}`,
    actor_role: position % 3 === 0 ? null : "admin",
    action: position % 2 ? "auth.signed_in" : "user.role_changed",
    target_type: position % 2 ? null : "user",
    target_id: position % 2 ? null : `user-${position}`,
    outcome: "ok",
    reason: null,
    request_id: `req-${position}`,
    ip: position % 5 ? "203.0.113.7" : null,
    user_agent: "vitest",
    payload: position % 2 ? { provider: "password", sessionId: `s-${position}` } : { from: "viewer", to: "auditor", n: position / 4, nested: [null, { b: true, a: "é" }] },
  };
}

function checkpointLine(position: number | string, hash: string, key: TKey, createdAt = "2026-11-26T09:01:00.000Z"): TCheckpointLine {
  const statement = checkpointStatement({ position: String(position), hash, createdAt, keyId: key.keyId });
  return { type: "checkpoint", position: statement.position, hash, createdAt, keyId: key.keyId, signature: signCheckpoint(statement, key.privateKey) };
}

/** Bundle lines for positions 1…count, a checkpoint right after every `every`-th event. */
function buildChain({ count = 50, every = 10, signer = (_position: number): TKey | null => KEY } = {}): TLine[] {
  const lines: TLine[] = [];
  let prevHash = GENESIS_HASH;
  for (let p = 1; p <= count; p++) {
    const event = toChainEvent(row(p));
    const hash = hashRecord(chainRecord(p, prevHash, event));
    lines.push({ type: "event", position: String(p), prevHash, hash, event });
    const key = p % every === 0 ? signer(p) : null;
    if (key) lines.push(checkpointLine(p, hash, key));
    prevHash = hash;
  }
  return lines;
}

function verify(lines: TLine[], options: ConstructorParameters<typeof ChainVerifier>[0] = { publicKey: KEY.publicKey }): TVerifyResult {
  const verifier = new ChainVerifier(options);
  for (const line of lines) {
    if (line.type === "event") verifier.addEvent(line);
    else verifier.addCheckpoint(line);
    if (verifier.failure) break;
  }
  return verifier.finish();
}

function expectFailure(result: TVerifyResult, position: number, reason: TVerifyFailureReason) {
  expect(result.ok).toBe(false);
  expect(result.failure).toMatchObject({ position: String(position), reason });
}

const eventAt = (lines: TLine[], position: number) => lines.findIndex((l) => l.type === "event" && l.position === String(position));
const checkpointAt = (lines: TLine[], position: number) => lines.findIndex((l) => l.type === "checkpoint" && l.position === String(position));
function eventLine(lines: TLine[], position: number): TEventLine {
  const line = lines[eventAt(lines, position)];
  if (line?.type !== "event") throw new Error(`no event at ${position}`);
  return line;
}
function checkpoint(lines: TLine[], position: number): TCheckpointLine {
  const line = lines[checkpointAt(lines, position)];
  if (line?.type !== "checkpoint") throw new Error(`no checkpoint at ${position}`);
  return line;
}
/** Recomputes prevHash and hash of every event line from `position` on, as a forger would. */
function relink(lines: TLine[], position: number) {
  let prevHash = position === 1 ? GENESIS_HASH : eventLine(lines, position - 1).hash;
  for (const line of lines) {
    if (line.type !== "event" || BigInt(line.position) < BigInt(position)) continue;
    line.prevHash = prevHash;
    line.hash = hashRecord(chainRecord(line.position, prevHash, line.event));
    prevHash = line.hash;
  }
}

const KEY = makeKey();
const OTHER_KEY = makeKey();

describe("hash linking", () => {
  it("seals the event model: 64-bit numbers as strings, ISO times with milliseconds, nulls kept", () => {
    const event = toChainEvent(row(15));
    expect(event).toMatchObject({ seq: "1015", occurredAt: "2026-11-26T09:00:15.000Z", actorId: null, actorRole: null, reason: null, ip: null });
    expect(Object.keys(event).sort()).toEqual(
      ["action", "actorId", "actorRole", "actorType", "id", "ip", "occurredAt", "outcome", "payload", "reason", "requestId", "seq", "targetId", "targetType", "userAgent"].sort(),
    );
  });

  it("hashes the canonical record {v, position, prevHash, event}, starting from the genesis hash", () => {
    expect(GENESIS_HASH).toBe("0".repeat(64));
    const lines = buildChain();
    const events = lines.filter((l): l is TEventLine => l.type === "event");
    expect(events).toHaveLength(50);
    expect(events[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (i > 0) expect(e.prevHash).toBe(events[i - 1]!.hash);
      const record = chainRecord(BigInt(e.position), e.prevHash, e.event);
      expect(record).toEqual({ v: CHAIN_VERSION, position: e.position, prevHash: e.prevHash, event: e.event });
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(e.hash).toBe(createHash("sha256").update(canon(record), "utf8").digest("hex"));
    }
    // The position is part of what is hashed: the same event and link elsewhere hash differently.
    const first = events[0]!;
    expect(hashRecord(chainRecord(2, first.prevHash, first.event))).not.toBe(first.hash);
    // Key order of the stored event does not matter, only its content.
    const reversed = Object.fromEntries(Object.entries(first.event).reverse()) as TChainEvent;
    expect(hashRecord(chainRecord(1, GENESIS_HASH, reversed))).toBe(first.hash);
  });

  it("accepts an intact chain with signed checkpoints every 10 events", () => {
    const lines = buildChain();
    const result = verify(lines);
    expect(result).toEqual({
      ok: true,
      events: 50,
      checkpoints: 5,
      firstPosition: "1",
      lastPosition: "50",
      lastHash: eventLine(lines, 50).hash,
      firstCheckpoint: { position: "10", hash: eventLine(lines, 10).hash },
      lastCheckpoint: { position: "50", hash: eventLine(lines, 50).hash },
      failure: null,
    });
  });

  it("accepts an unsigned tail after the last checkpoint (linked, not yet signed)", () => {
    const result = verify(buildChain({ count: 47 }));
    expect(result).toMatchObject({ ok: true, events: 47, checkpoints: 4, lastPosition: "47", lastCheckpoint: { position: "40" } });
  });

  it("checks a checkpoint read before its event once the event arrives", () => {
    const early = buildChain();
    const [cp] = early.splice(checkpointAt(early, 30), 1);
    early.splice(eventAt(early, 30), 0, cp!);
    expect(verify(early).ok).toBe(true);
    const wrong = buildChain();
    wrong.splice(checkpointAt(wrong, 30), 1);
    wrong.splice(eventAt(wrong, 30), 0, checkpointLine(30, eventLine(wrong, 29).hash, KEY));
    expectFailure(verify(wrong), 30, "checkpoint_mismatch");
  });
});

describe("tampering", () => {
  it("a changed field in an event: changed_event at its position", () => {
    for (const change of [
      (e: TChainEvent) => (e.outcome = "denied"),
      (e: TChainEvent) => (e.reason = ""), // null and "" differ
      (e: TChainEvent) => ((e.payload as { nested: [null, { b: boolean }] }).nested[1].b = false),
      (e: TChainEvent) => (e.seq = "9999"),
    ]) {
      const lines = buildChain();
      change(eventLine(lines, 24).event);
      expectFailure(verify(lines), 24, "changed_event");
    }
  });

  it("a changed stored hash: changed_event at that position", () => {
    const lines = buildChain();
    eventLine(lines, 23).hash = "f".repeat(64);
    // The core checks each line's recomputed hash before moving on, so it stops at the edited
    // line itself and never reaches the broken link at 24. From one line it cannot tell whether
    // the event or its hash was edited; the database verifier (verify-audit-chain.ts) looks at
    // the next row's prevHash, which still equals the recomputed hash, and reports changed_hash.
    expectFailure(verify(lines), 23, "changed_event");
  });

  it("an edited event whose hash was recomputed: broken_link at the next position", () => {
    const lines = buildChain();
    const line = eventLine(lines, 23);
    line.event.actorRole = "viewer";
    line.hash = hashRecord(chainRecord(23, line.prevHash, line.event));
    expectFailure(verify(lines), 24, "broken_link");
  });

  it("a consistently rewritten stretch: checkpoint_mismatch at the next signed checkpoint", () => {
    const lines = buildChain();
    eventLine(lines, 23).event.actorRole = "viewer";
    relink(lines, 23);
    expectFailure(verify(lines), 30, "checkpoint_mismatch");
  });

  it("a removed event: missing_event at the removed position", () => {
    const lines = buildChain();
    lines.splice(eventAt(lines, 23), 1);
    expectFailure(verify(lines), 23, "missing_event");
    const withCheckpoint = buildChain();
    withCheckpoint.splice(eventAt(withCheckpoint, 30), 2); // event 30 and its checkpoint
    expectFailure(verify(withCheckpoint), 30, "missing_event");
  });

  it("a duplicated event line: reordered", () => {
    const lines = buildChain();
    lines.splice(eventAt(lines, 23) + 1, 0, structuredClone(eventLine(lines, 23)));
    expectFailure(verify(lines), 23, "reordered");
    const later = buildChain();
    later.splice(eventAt(later, 26) + 1, 0, structuredClone(eventLine(later, 23)));
    expectFailure(verify(later), 23, "reordered");
  });

  it("reordered event lines: missing_event at the first displaced position", () => {
    // In a permutation the first line out of place always names a position ahead of the one
    // expected, so the core reports that position as missing; "reordered" is for a position
    // that was already passed (a duplicated line, or a checkpoint behind a later event).
    const lines = buildChain();
    const i = eventAt(lines, 23);
    [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
    expectFailure(verify(lines), 23, "missing_event");
    // Events swapped under unchanged positions and hashes: each fails its own hash. (The
    // database verifier finds the event's true position nearby and reports reordered.)
    const swapped = buildChain();
    const a = eventLine(swapped, 23);
    const b = eventLine(swapped, 24);
    [a.event, b.event] = [b.event, a.event];
    expectFailure(verify(swapped), 23, "changed_event");
  });

  it("an inserted forged event: broken_link right after it", () => {
    const forge = (lines: TLine[], renumber: boolean) => {
      const before = eventLine(lines, 23);
      const event = { ...structuredClone(before.event), action: "user.password_set", payload: {} };
      const forged: TEventLine = { type: "event", position: "24", prevHash: before.hash, hash: hashRecord(chainRecord(24, before.hash, event)), event };
      if (renumber) for (const l of lines) if (BigInt(l.position) >= 24n) l.position = String(BigInt(l.position) + 1n);
      lines.splice(eventAt(lines, 23) + 1, 0, forged);
      return lines;
    };
    // The forger shifts the later positions to make room: the old event 24, now at 25, still
    // links to event 23, not to the forged one.
    expectFailure(verify(forge(buildChain(), true)), 25, "broken_link");
    // Without renumbering, position 24 appears twice.
    expectFailure(verify(forge(buildChain(), false)), 24, "reordered");
    // A forged event that does not link at all.
    const unlinked = buildChain();
    const line = eventLine(unlinked, 23);
    line.prevHash = sha256Hex("forged");
    line.hash = hashRecord(chainRecord(23, line.prevHash, line.event));
    expectFailure(verify(unlinked), 23, "broken_link");
  });

  it("a changed checkpoint: its signature fails, or a valid signature over another hash mismatches", () => {
    const edited = buildChain();
    checkpoint(edited, 30).hash = eventLine(edited, 29).hash; // the signature covers the hash
    expectFailure(verify(edited), 30, "bad_checkpoint_signature");
    const resigned = buildChain();
    resigned[checkpointAt(resigned, 30)] = checkpointLine(30, sha256Hex("another chain"), KEY);
    expectFailure(verify(resigned), 30, "checkpoint_mismatch");
    const redated = buildChain();
    checkpoint(redated, 30).createdAt = "2027-01-01T00:00:00.000Z"; // so does the time
    expectFailure(verify(redated), 30, "bad_checkpoint_signature");
  });

  it("forged signatures, wrong keys and unknown key ids: bad_checkpoint_signature", () => {
    const forged = buildChain();
    checkpoint(forged, 20).signature = randomBytes(64).toString("base64");
    expectFailure(verify(forged), 20, "bad_checkpoint_signature");

    // Signed by another key under the trusted key's id.
    const wrongKey = buildChain();
    const cp = checkpoint(wrongKey, 20);
    cp.signature = signCheckpoint(checkpointStatement(cp), OTHER_KEY.privateKey);
    const r1 = verify(wrongKey);
    expectFailure(r1, 20, "bad_checkpoint_signature");
    expect(r1.failure!.detail).toMatch(/not valid/);

    // Signed by another key under its own id.
    const unknown = buildChain();
    unknown[checkpointAt(unknown, 20)] = checkpointLine(20, eventLine(unknown, 20).hash, OTHER_KEY);
    const r2 = verify(unknown);
    expectFailure(r2, 20, "bad_checkpoint_signature");
    expect(r2.failure!.detail).toContain(OTHER_KEY.keyId);

    // No trusted key at all.
    expectFailure(verify(buildChain(), {}), 10, "bad_checkpoint_signature");
  });

  it("a checkpoint placed after a later event: reordered", () => {
    const lines = buildChain();
    const [cp] = lines.splice(checkpointAt(lines, 30), 1);
    lines.splice(eventAt(lines, 31) + 1, 0, cp!);
    expectFailure(verify(lines), 30, "reordered");
  });

  it("a checkpoint beyond the last event (tail cut off, checkpoint kept) is reported", () => {
    // A checkpoint that never met its event means events were cut off the end (the database
    // verifier reports the same situation as missing_event).
    const lines = buildChain();
    lines.splice(eventAt(lines, 50), 1); // event 50 removed, its checkpoint left in place
    const result = verify(lines);
    expect(result.ok).toBe(false);
    expect(result.failure?.reason).toBe("missing_event");
  });
});

describe("partial ranges", () => {
  const from21 = (lines: TLine[]) => lines.slice(eventAt(lines, 21));

  it("a range starting after position 1 without an anchor checkpoint: unanchored", () => {
    // Without an anchor the first event's prevHash is unchecked, so events could have been cut
    // off the start: the verifier must refuse such a range.
    const result = verify(from21(buildChain()), { publicKey: KEY.publicKey, startPosition: 21n });
    expect(result.ok).toBe(false);
    expect(result.failure?.reason).toBe("unanchored");
  });

  it("a range anchored by the signed checkpoint just before it: ok", () => {
    const lines = buildChain();
    const result = verify([checkpoint(lines, 20), ...from21(lines)], { publicKey: KEY.publicKey, startPosition: 21n });
    expect(result).toMatchObject({
      ok: true,
      events: 30,
      checkpoints: 4,
      firstPosition: "21",
      lastPosition: "50",
      firstCheckpoint: { position: "20", hash: eventLine(lines, 20).hash },
      lastCheckpoint: { position: "50" },
    });
  });

  it("an anchor with the wrong hash: broken_link at the first event (or a bad signature if edited)", () => {
    const lines = buildChain();
    const signedWrong = checkpointLine(20, eventLine(lines, 19).hash, KEY);
    expectFailure(verify([signedWrong, ...from21(lines)], { publicKey: KEY.publicKey, startPosition: 21n }), 21, "broken_link");
    const edited = { ...checkpoint(lines, 20), hash: eventLine(lines, 19).hash };
    expectFailure(verify([edited, ...from21(lines)], { publicKey: KEY.publicKey, startPosition: 21n }), 20, "bad_checkpoint_signature");
  });

  it("an explicit start hash links the first event like an anchor", () => {
    const lines = buildChain();
    expect(verify(from21(lines), { publicKey: KEY.publicKey, startPosition: 21n, startPrevHash: eventLine(lines, 20).hash }).ok).toBe(true);
    expectFailure(verify(from21(lines), { publicKey: KEY.publicKey, startPosition: 21n, startPrevHash: GENESIS_HASH }), 21, "broken_link");
  });
});

describe("keys and checkpoints", () => {
  it("keyIdOf: 16 hex digits of SHA-256 over the SPKI DER key, stable, distinct per key", () => {
    expect(KEY.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(keyIdOf(KEY.publicKey)).toBe(KEY.keyId);
    expect(keyIdOf(KEY.pem)).toBe(KEY.keyId);
    expect(keyIdOf(createPublicKey(KEY.pem))).toBe(KEY.keyId);
    expect(KEY.keyId).toBe(sha256Hex(KEY.publicKey.export({ type: "spki", format: "der" })).slice(0, 16));
    expect(OTHER_KEY.keyId).not.toBe(KEY.keyId);
  });

  it("checkpointStatement has exactly {v, type, position, hash, createdAt, keyId}", () => {
    const hash = sha256Hex("x");
    const statement = checkpointStatement({ position: 30n, hash, createdAt: "2026-11-26T09:01:00.000Z", keyId: KEY.keyId, ...{ signature: "ignored" } });
    expect(statement).toEqual({ v: 1, type: "tether.audit.checkpoint", position: "30", hash, createdAt: "2026-11-26T09:01:00.000Z", keyId: KEY.keyId });
    expect(CHECKPOINT_TYPE).toBe("tether.audit.checkpoint");
    expect(canon(statement)).toBe(`{"createdAt":"2026-11-26T09:01:00.000Z","hash":"${hash}","keyId":"${KEY.keyId}","position":"30","type":"tether.audit.checkpoint","v":1}`);
  });

  it("verifyCheckpointSignature: true for a real signature, false for anything else", () => {
    const statement = checkpointStatement({ position: 1n, hash: sha256Hex("x"), createdAt: "2026-11-26T09:01:00.000Z", keyId: KEY.keyId });
    const signature = signCheckpoint(statement, KEY.privateKey);
    expect(Buffer.from(signature, "base64")).toHaveLength(64);
    expect(verifyCheckpointSignature(statement, signature, KEY.publicKey)).toBe(true);
    expect(verifyCheckpointSignature(statement, signature, OTHER_KEY.publicKey)).toBe(false);
    expect(verifyCheckpointSignature({ ...statement, position: "2" }, signature, KEY.publicKey)).toBe(false);
    for (const garbage of ["", "!!! not base64 !!!", "AAAA", "A".repeat(88), signature.slice(0, -4)]) {
      expect(verifyCheckpointSignature(statement, garbage, KEY.publicKey), garbage).toBe(false);
    }
  });

  it("trusts several keys after a rotation: old and new checkpoints both verify", () => {
    const newKey = makeKey();
    const lines = buildChain({ signer: (p) => (p <= 20 ? KEY : newKey) });
    expect(verify(lines, { publicKeys: [KEY.publicKey, newKey.publicKey] })).toMatchObject({ ok: true, checkpoints: 5 });
    expect(verify(lines, { publicKey: newKey.pem, publicKeys: [KEY.pem] })).toMatchObject({ ok: true, checkpoints: 5 });
    const onlyNew = verify(lines, { publicKeys: [newKey.publicKey] });
    expectFailure(onlyNew, 10, "bad_checkpoint_signature");
    expect(onlyNew.failure!.detail).toContain(KEY.keyId);
  });
});

describe("the worked example in docs/audit-format.md", () => {
  it("has the hash, key id and signature the document shows", () => {
    const event: TChainEvent = {
      id: "3b7f0d52-9c1e-4a8b-8f2d-6e5a4c3b2a19",
      seq: "1",
      occurredAt: "2026-11-26T09:30:00.123Z",
      actorType: "user",
      actorId: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
      actorRole: "admin",
      action: "user.role_changed",
      targetType: "user",
      targetId: "f47ac10b-58cc-4372-a567-0e02b2c3d479",
      outcome: "ok",
      reason: null,
      requestId: "req-01",
      ip: "203.0.113.7",
      userAgent: "curl/8.5.0",
      payload: { to: "auditor", from: "viewer" },
    };
    const record = chainRecord(1, GENESIS_HASH, event);
    expect(canon(record)).toBe(
      '{"event":{"action":"user.role_changed","actorId":"7c9e6679-7425-40de-944b-e07fc1f90ae7","actorRole":"admin","actorType":"user","id":"3b7f0d52-9c1e-4a8b-8f2d-6e5a4c3b2a19","ip":"203.0.113.7","occurredAt":"2026-11-26T09:30:00.123Z","outcome":"ok","payload":{"from":"viewer","to":"auditor"},"reason":null,"requestId":"req-01","seq":"1","targetId":"f47ac10b-58cc-4372-a567-0e02b2c3d479","targetType":"user","userAgent":"curl/8.5.0"},"position":"1","prevHash":"0000000000000000000000000000000000000000000000000000000000000000","v":1}',
    );
    const hash = hashRecord(record);
    expect(hash).toBe("7d7cc73a94cf9fdd583ae5d1f1a28a4b2285ee506508d5c0b91c6e1e6742746d");

    // RFC 8032 §7.1 TEST 1 key (public, for examples only). Ed25519 signatures are deterministic.
    const privateKey = createPrivateKey({
      key: Buffer.from("302e020100300506032b6570042204209d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex"),
      format: "der",
      type: "pkcs8",
    });
    const publicKey = createPublicKey(privateKey);
    expect(publicKey.export({ type: "spki", format: "pem" }).toString()).toBe("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n");
    expect(keyIdOf(publicKey)).toBe("06e3fd8fda29bb60");
    const statement = checkpointStatement({ position: "1", hash, createdAt: "2026-11-26T09:30:01.000Z", keyId: "06e3fd8fda29bb60" });
    const signature = signCheckpoint(statement, privateKey);
    expect(signature).toBe("Ac3p2dlfzWBIeamD01IfJUBnIopyyJxjJ6OQSBWaoEv58Yan8Zs/B0AkKt/qEkdnjKhtVV4Mqog8BkADti0mCA==");
    const result = verify(
      [{ type: "event", position: "1", prevHash: GENESIS_HASH, hash, event }, { type: "checkpoint", position: "1", hash, createdAt: statement.createdAt, keyId: statement.keyId, signature }],
      { publicKey },
    );
    expect(result).toMatchObject({ ok: true, events: 1, checkpoints: 1 });
  });
});

describe("the in-house RFC 8785 serializer agrees with the canonicalize package", () => {
  // A deterministic generator of awkward JSON: unicode keys (incl. astral), numbers at the
  // edges of ES6 formatting, escapes, nesting.
  function* values(seed: number): Generator<unknown> {
    let x = seed;
    const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const strings = ["", "a", "é", "€", "😀", "\u0000", "\u001f", "\"\\/", "\u2028", "דּ", "z".repeat(40), "キー"];
    const numbers = [0, -0, 1, -1, 1e21, 1e-7, 1.5, 333333333.33333329, 2 ** 53, -(2 ** 53), 5e-324, 1.7976931348623157e308, 0.1, 100, 1e20];
    const make = (depth: number): unknown => {
      const r = rnd();
      if (depth > 3 || r < 0.3) return numbers[Math.floor(rnd() * numbers.length)];
      if (r < 0.5) return strings[Math.floor(rnd() * strings.length)];
      if (r < 0.55) return rnd() < 0.5;
      if (r < 0.6) return null;
      if (r < 0.8) return Array.from({ length: Math.floor(rnd() * 4) }, () => make(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 5) }, () => [strings[Math.floor(rnd() * strings.length)]! + String(Math.floor(rnd() * 3)), make(depth + 1)]));
    };
    for (;;) yield make(0);
  }

  it("on 5,000 generated values", async () => {
    const { default: canonicalize } = await import("canonicalize");
    const { canonicalJson } = await import("@/lib/audit/chain-core.mjs");
    const gen = values(42);
    for (let i = 0; i < 5000; i++) {
      const v = gen.next().value;
      expect(canonicalJson(v)).toBe(canonicalize(v));
    }
  });
});

describe("hashChainEntry (the verifier's fast path)", () => {
  it("equals hashRecord(chainRecord(...)) for audit-event-shaped and other events", async () => {
    const { chainRecord, hashChainEntry, hashRecord } = await import("@/lib/audit/chain-core.mjs");
    const base = {
      action: "handle.status_changed", actorId: null, actorRole: null, actorType: "system", id: "5796c1a2-ea74-46c8-b6f6-4520cd622186",
      ip: null, occurredAt: "2026-11-26T00:43:25.527Z", outcome: "ok", payload: { b: [1, "é", { z: null, a: 1e21 }], a: "😀" },
      reason: "why \"quoted\"\n", requestId: "r", seq: "42", targetId: "hdl_1", targetType: "handle", userAgent: "UA\u2028",
    };
    const variants = [base, { ...base, payload: {} }, { ...base, extra: "x" }, (({ ip: _ip, ...rest }) => rest)(base), { ...base, seq: 42 }];
    for (const event of variants) {
      for (const position of ["1", "1000000"]) {
        expect(hashChainEntry(position, "ab".repeat(32), event as never)).toBe(hashRecord(chainRecord(position, "ab".repeat(32), event as never)));
      }
    }
  });
});

describe("hashChainEntry against the reference serializer", () => {
  // Strings on both sides of the serializer's shortcut: plain ones go out as they are, anything
  // JSON escapes (quote, backslash, control characters) or any surrogate takes JSON.stringify.
  const strings = ["plain", "", "tab\t", 'quote"', "back\\slash", "\u0000\u001f\u007f", "é € キー", "😀 pair", "\u2028\u2029", "\\N"];

  it("hashes exactly SHA-256 of canonicalize({v, position, prevHash, event}) as UTF-8", async () => {
    const { default: canonicalize } = await import("canonicalize");
    const { hashChainEntry } = await import("@/lib/audit/chain-core.mjs");
    for (const [i, s] of strings.entries()) {
      const event = {
        action: s, actorId: s, actorRole: null, actorType: "user", id: s, ip: null, occurredAt: s, outcome: "ok",
        payload: { [s]: s, list: [s, 1e21, -0.5, true, null], nested: { [`${s}b`]: s, [`${s}a`]: 2 ** 53 } },
        reason: s, requestId: s, seq: String(i), targetId: s, targetType: s, userAgent: s,
      };
      const expected = createHash("sha256").update(canonicalize(chainRecord(String(i + 1), "cd".repeat(32), event))!, "utf8").digest("hex");
      for (const position of [String(i + 1), BigInt(i + 1), i + 1]) expect(hashChainEntry(position, "cd".repeat(32), event)).toBe(expected);
    }
  });

  it("refuses a lone surrogate in any field, as the generic path does", async () => {
    const { hashChainEntry } = await import("@/lib/audit/chain-core.mjs");
    const event = {
      action: "a", actorId: null, actorRole: null, actorType: "user", id: "i", ip: null, occurredAt: "t", outcome: "ok", payload: {},
      reason: null, requestId: null, seq: "1", targetId: null, targetType: null, userAgent: null,
    };
    for (const bad of ["\ud83d", "x\ude00", "\ude00\ud83d"]) {
      expect(() => hashChainEntry("1", GENESIS_HASH, { ...event, reason: bad })).toThrow(/lone surrogates/);
      expect(() => hashChainEntry("1", GENESIS_HASH, { ...event, payload: { [bad]: 1 } })).toThrow(/lone surrogates/);
    }
  });

  it("sha256Hex hashes a string as its UTF-8 bytes", () => {
    for (const s of strings) expect(sha256Hex(s)).toBe(sha256Hex(Buffer.from(s, "utf8")));
  });
});
