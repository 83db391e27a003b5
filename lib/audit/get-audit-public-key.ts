import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getAuditSigningKey } from "./signing-key";

/** The checkpoint-signing public key an outsider needs to verify an export bundle. */
export function getAuditPublicKey(input: { actor: TActor }): { keyId: string; publicKeyPem: string } {
  assertCan(input.actor, "audit.read");
  const { keyId, publicKeyPem } = getAuditSigningKey();
  return { keyId, publicKeyPem };
}
