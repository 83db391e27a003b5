#!/usr/bin/env node
// Offline verifier for Tether audit bundles (NDJSON from GET /api/v1/audit/export).
//   npx tether-audit-verify bundle.ndjson --public-key key.pem
// Needs no database and no network: it recomputes every hash of the chain in the bundle,
// checks every link, checks every checkpoint's Ed25519 signature against the public key you
// trust, and that the bundle is complete (its trailer). Exit 0 when intact, 1 otherwise.
// The format is specified in docs/audit-format.md.
import { createReadStream, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { ChainVerifier, keyIdOf } from "../lib/audit/chain-core.mjs";

function usage(message) {
  if (message) console.error(message);
  console.error("usage: tether-audit-verify <bundle.ndjson> --public-key <key.pem> [--public-key <older-key.pem> ...]");
  process.exit(2);
}

// --public-key may be given more than once: a range that spans a key rotation needs each key.
const { values, positionals } = parseArgs({ options: { "public-key": { type: "string", multiple: true }, quiet: { type: "boolean", default: false } }, allowPositionals: true });
if (positionals.length !== 1) usage();
const bundlePath = positionals[0];

const trustedKeys = (values["public-key"] ?? []).map((file) => {
  try {
    const pem = readFileSync(file, "utf8");
    keyIdOf(pem);
    return pem;
  } catch {
    return usage(`cannot read a public key from ${file}`);
  }
});
const trustedKey = trustedKeys[0] ?? null;

const lines = createInterface({ input: createReadStream(bundlePath, { encoding: "utf8" }), crlfDelay: Infinity });
let verifier = null;
let header = null;
let trailer = null;
let lineNo = 0;
let brokenLine = null;

function broken(message) {
  console.error(`BROKEN: ${message}`);
  process.exit(1);
}

try {
  for await (const line of lines) {
    lineNo++;
    if (!line.trim()) continue;
    let item;
    try {
      item = JSON.parse(line);
    } catch {
      broken(`line ${lineNo} is not JSON`);
    }
    if (trailer) broken(`line ${lineNo}: content after the trailer`);
    if (lineNo === 1) {
      if (item.type !== "header" || item.format !== "tether-audit-bundle" || item.version !== 1) broken("line 1 is not a tether-audit-bundle v1 header");
      header = item;
      const key = trustedKey ?? header.publicKey;
      if (!trustedKey) console.error(`warning: no --public-key given; using the key inside the bundle (key id ${keyIdOf(key)}). Compare it with the key id Tether publishes.`);
      const first = header.firstPosition ? BigInt(header.firstPosition) : 1n;
      verifier = new ChainVerifier({ publicKeys: trustedKeys.length ? trustedKeys : [key], startPosition: first });
      continue;
    }
    if (item.type === "event") verifier.addEvent(item);
    else if (item.type === "checkpoint") verifier.addCheckpoint(item);
    else if (item.type === "trailer") trailer = item;
    else broken(`line ${lineNo}: unknown item type ${JSON.stringify(item.type)}`);
    if (verifier.failure && brokenLine === null) brokenLine = lineNo;
    if (verifier.failure) break;
  }
} catch (err) {
  broken(`cannot read ${bundlePath}: ${err.message}`);
}

if (!header) broken("the bundle is empty");
const result = verifier.finish();
if (!result.ok) {
  const f = result.failure;
  broken(`chain position ${f.position} (line ${brokenLine ?? lineNo}): ${f.reason} — ${f.detail}`);
}
if (!trailer) broken("the bundle has no trailer: it is truncated");
if (trailer.events !== result.events) broken(`the trailer announces ${trailer.events} events, the bundle holds ${result.events}`);
if (header.lastPosition !== result.lastPosition) broken(`the header announces positions up to ${header.lastPosition}, the bundle ends at ${result.lastPosition}`);

if (!values.quiet) {
  console.log(`OK: ${result.events} events, positions ${result.firstPosition ?? "-"}…${result.lastPosition ?? "-"}, complete and unchanged.`);
  if (result.firstCheckpoint) {
    const ids = (trustedKeys.length ? trustedKeys : [header.publicKey]).map((k) => keyIdOf(k)).join(", ");
    console.log(`Signed checkpoints verified: ${result.checkpoints} (trusted key id ${ids}), from position ${result.firstCheckpoint.position} to ${result.lastCheckpoint.position}.`);
  }
  if (!result.lastCheckpoint || result.lastCheckpoint.position !== result.lastPosition) {
    console.log(`Note: events after position ${result.lastCheckpoint?.position ?? "0"} are linked but not yet covered by a signed checkpoint.`);
  }
}
process.exit(0);
