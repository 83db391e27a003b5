import "server-only";
import { decryptSecret } from "@/lib/crypto/secrets";

// A row the gateway cache holds is the same object on every call that reads it, so what was
// decrypted from it once can stay with it: an AES-GCM open per poll for the session's and the
// handle's upstream ids was a tenth of the gateway's CPU per relayed tasks/get. Keyed weakly by
// the row, so a value lives exactly as long as the cached row (an evicted or invalidated row
// takes its plaintext with it) and is never shared between rows.
const opened = new WeakMap<object, Map<string, string>>();

/** `decryptSecret(ciphertext, context)`, remembered for as long as `row` lives. */
export function decryptRowSecret(row: object, ciphertext: string, context: string): string {
  let values = opened.get(row);
  const key = `${context}\0${ciphertext}`;
  const known = values?.get(key);
  if (known !== undefined) return known;
  const plain = decryptSecret(ciphertext, context);
  if (!values) opened.set(row, (values = new Map()));
  values.set(key, plain);
  return plain;
}
