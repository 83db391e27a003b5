import "server-only";
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from "node:crypto";
import { requireSecret } from "@/lib/env";

// Keyed hashes (HMAC-SHA256) for every secret Tether must recognise but never store:
// handle tokens, API keys, gateway session ids, and secret references in audit rows.
// A purpose label separates the domains so a hash from one can never match another.
export type THashPurpose = "handle-token" | "api-key" | "gateway-session" | "audit-ref" | "upstream-task" | "list-cursor";

// The HMAC key as a KeyObject, made once per configured value: a string key is converted again on
// every call, and the gateway hashes three secrets on every poll.
let hmacKey: { source: string; key: KeyObject } | null = null;

function hmacKeyObject(): KeyObject {
  const source = requireSecret("TETHER_HMAC_KEY");
  if (hmacKey?.source !== source) hmacKey = { source, key: createSecretKey(Buffer.from(source, "utf8")) };
  return hmacKey.key;
}

export function keyedHash(purpose: THashPurpose, value: string): string {
  return createHmac("sha256", hmacKeyObject()).update(`${purpose}\0${value}`).digest("base64url");
}

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** URL-safe random token with `bytes` bytes of CSPRNG entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

function encryptionKey(): Buffer {
  const key = Buffer.from(requireSecret("TETHER_ENCRYPTION_KEY"), "base64");
  if (key.length !== 32) throw new Error("TETHER_ENCRYPTION_KEY must be 32 bytes, base64-encoded.");
  return key;
}

/** AES-256-GCM envelope `v1.<iv>.<tag>.<ciphertext>`; `context` is bound as associated data. */
export function encryptSecret(plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", encryptionKey(), iv);
  cipher.setAAD(Buffer.from(context));
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ct.toString("base64url")].join(".");
}

export function decryptSecret(envelope: string, context: string): string {
  const [version, iv, tag, ct] = envelope.split(".");
  if (version !== "v1" || !iv || !tag || ct === undefined) throw new Error("Unrecognised secret envelope.");
  const ivBytes = Buffer.from(iv, "base64url");
  const tagBytes = Buffer.from(tag, "base64url");
  // A shortened tag would make forgery cheaper: only the full 128-bit tag (and a 96-bit IV) is accepted.
  if (ivBytes.length !== 12 || tagBytes.length !== 16) throw new Error("Unrecognised secret envelope.");
  const decipher = createDecipheriv("aes-256-gcm", encryptionKey(), ivBytes, { authTagLength: 16 });
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(tagBytes);
  return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
}
