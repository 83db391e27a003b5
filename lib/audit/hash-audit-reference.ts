import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { ZEmail } from "@/lib/auth/schemas";
import { keyedHash } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { invalidInput } from "@/lib/errors";
import { recordAuditEvent } from "./record-audit-event";
import { ZHashReferenceInput, type TAuditReferenceKind } from "./schemas";

/**
 * How an audit payload refers to a secret value: HMAC-SHA256 under the instance key, with the
 * kind as a prefix so equal strings of different kinds never match. Writers of audit events
 * and this lookup must agree on it (sign-in stores `email:<lower-cased address>`).
 */
export function auditReferenceHash(kind: TAuditReferenceKind, normalisedValue: string): string {
  return keyedHash("audit-ref", `${kind}:${normalisedValue}`);
}

/**
 * Admin only: the keyed hash of a value the admin already knows, to search the audit trail
 * for events that refer to it (refHash filter). The value is neither logged nor stored, and
 * the audit record of the lookup holds only its kind, not even the hash: otherwise the
 * record would point at the events it was used to find.
 */
export async function hashAuditReference(input: { actor: TActor; kind: unknown; value: unknown }): Promise<string> {
  assertCan(input.actor, "audit.read");
  assertCan(input.actor, "audit.hash_lookup");
  const parsed = ZHashReferenceInput.safeParse({ kind: input.kind, value: input.value });
  if (!parsed.success) throw invalidInput(parsed.error, "Choose a kind and enter the value to look for.");
  const { kind } = parsed.data;
  const value = normalise(kind, parsed.data.value);

  const hash = auditReferenceHash(kind, value);
  await getPrisma().$transaction((tx) =>
    recordAuditEvent(tx, { actor: input.actor, action: "audit.reference_hashed", payload: { kind } }),
  );
  return hash;
}

/** The same normal form the writers hash; an email is normalised exactly as sign-in does. */
function normalise(kind: TAuditReferenceKind, value: string): string {
  if (kind === "email") {
    const email = ZEmail.safeParse(value);
    // The message never repeats the value (it may be a password typed into the wrong field).
    if (!email.success) throw invalidInput({ issues: [{ path: ["value"], message: "Enter a valid email address." }] });
    return email.data;
  }
  // Tokens and API keys never contain spaces; a pasted one often carries some around it.
  return kind === "value" ? value : value.trim();
}
