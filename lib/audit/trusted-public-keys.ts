import { getEnv } from "@/lib/env";
import { getAuditSigningKey } from "./signing-key";

/**
 * Public keys a verification trusts: the current signing key's, plus earlier keys listed in
 * TETHER_AUDIT_PREVIOUS_PUBLIC_KEYS (PEM blocks, concatenated) after a key rotation.
 */
export function getTrustedAuditPublicKeys(): string[] {
  const previous = (getEnv().TETHER_AUDIT_PREVIOUS_PUBLIC_KEYS ?? "").replace(/\\n/g, "\n");
  const blocks = previous.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  return [getAuditSigningKey().publicKeyPem, ...blocks];
}
