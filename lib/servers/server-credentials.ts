import "server-only";
import { z } from "zod";
import { decryptSecret, encryptSecret } from "@/lib/crypto/secrets";
import { AppError } from "@/lib/errors";
import { serverCredentialsContext } from "@/lib/gateway/upstream";

// Upstream credentials at rest: an AES-256-GCM envelope bound to the server's slug (the context
// the gateway decrypts with, lib/gateway/upstream.ts). Only bearer tokens: the gateway sends
// nothing else upstream yet, so storing other kinds would register servers it cannot call.

const ZStoredCredentials = z.object({ type: z.literal("bearer"), token: z.string().min(1) });

export function encryptBearerCredentials(slug: string, token: string): string {
  return encryptSecret(JSON.stringify({ type: "bearer", token }), serverCredentialsContext(slug));
}

/** The stored bearer token of a server, or null when none is stored. */
export function readBearerToken(slug: string, credentialsEnc: string | null): string | null {
  if (!credentialsEnc) return null;
  return ZStoredCredentials.parse(JSON.parse(decryptSecret(credentialsEnc, serverCredentialsContext(slug)))).token;
}

export function originOf(url: string): string {
  return new URL(url).origin;
}

/** A stored token is only ever sent to the origin it was entered for. */
export function tokenMustBeReentered(): AppError {
  const message = "The URL points at another host now: enter the bearer token again (or remove it), so a stored token never goes to a host it was not entered for.";
  return new AppError("INVALID_INPUT", message, { issues: [{ path: "bearerToken", message }] });
}
