import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { getEnv } from "@/lib/env";
import { keyIdOf } from "./chain-core.mjs";

export type TSigningKey = { privateKey: KeyObject; publicKey: KeyObject; publicKeyPem: string; keyId: string };

let cached: { pem: string; key: TSigningKey } | undefined;

/**
 * The Ed25519 key that signs audit checkpoints, from TETHER_AUDIT_SIGNING_KEY (PKCS#8 PEM;
 * `\n` escapes are accepted for one-line environments). Embedded mode generates one into
 * the data folder (lib/embedded/data-dir.ts).
 */
export function getAuditSigningKey(): TSigningKey {
  const pem = getEnv().TETHER_AUDIT_SIGNING_KEY?.replace(/\\n/g, "\n");
  if (!pem) throw new Error("TETHER_AUDIT_SIGNING_KEY is not set: audit checkpoints cannot be signed. See the README's configuration table.");
  if (cached?.pem === pem) return cached.key;
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new Error("TETHER_AUDIT_SIGNING_KEY is not a PKCS#8 PEM private key.");
  }
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error("TETHER_AUDIT_SIGNING_KEY must be an Ed25519 key.");
  const publicKey = createPublicKey(privateKey);
  const key = { privateKey, publicKey, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), keyId: keyIdOf(publicKey) };
  cached = { pem, key };
  return key;
}

export function generateAuditSigningKeyPem(): string {
  return generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}
