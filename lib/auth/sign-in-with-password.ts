import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import { keyedHash } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { getEnv } from "@/lib/env";
import { AppError, invalidInput } from "@/lib/errors";
import type { TActor, TRequestMeta } from "./actor";
import { clearRateLimit, incrementRateLimit, releaseRateLimit } from "./consume-rate-limit";
import { burnPasswordCheck, verifyPassword } from "./password";
import { sessionExpiry, trimMeta, type TSignedIn } from "./request-session";
import { ZSignInInput } from "./schemas";

// One message for every credential failure, so the form is not an account oracle.
export const SIGN_IN_FAILED = "Invalid email or password.";

/**
 * Email + password sign-in. Failed attempts count against the account and the client
 * address (in Postgres, shared by all instances); past the limit every attempt is refused
 * until the window ends, whether or not the password is right.
 */
export async function signInWithPassword(input: { email: unknown; password: unknown; request: TRequestMeta }): Promise<TSignedIn> {
  const env = getEnv();
  const db = getPrisma();
  const request = trimMeta(input.request);
  const anonymous: TActor = { type: "system", id: "system", name: "sign-in", request };

  const parsed = ZSignInInput.safeParse({ email: input.email, password: input.password });
  if (!parsed.success) throw invalidInput(parsed.error, "Enter a valid email address and your password.");
  const { email, password } = parsed.data;

  const emailHash = keyedHash("audit-ref", `email:${email}`);
  const accountKey = `signin:acct:${emailHash}`;
  const ipKey = `signin:ip:${request.ip ?? "unknown"}`;
  const limit = env.TETHER_SIGNIN_MAX_ATTEMPTS;
  // Every attempt takes a slot first, atomically, so parallel guesses cannot all slip past the
  // limit between a check and a count. A successful sign-in gives its slots back.
  const window = env.TETHER_SIGNIN_WINDOW_SECONDS;
  const [acct, ip] = await db.$transaction(async (tx) => [
    await incrementRateLimit(tx, accountKey, window),
    await incrementRateLimit(tx, ipKey, window),
  ]);
  if (acct.count > limit || ip.count > limit * 4) {
    const retry = Math.max(acct.count > limit ? acct.retryAfterSeconds : 0, ip.count > limit * 4 ? ip.retryAfterSeconds : 0);
    await db.$transaction((tx) =>
      recordAuditEvent(tx, {
        actor: anonymous,
        action: "auth.sign_in_failed",
        outcome: "denied",
        reason: "too many failed attempts",
        payload: { provider: "credentials", emailHash, cause: "rate_limited" },
      }),
    );
    throw new AppError("RATE_LIMITED", `Too many failed sign-in attempts. Try again in ${Math.max(1, Math.ceil(retry / 60))} minute(s).`, {
      details: { retryAfterSeconds: retry },
    });
  }

  const principal = await db.principal.findUnique({ where: { email } });
  const ok =
    principal?.kind === "user" && principal.passwordHash
      ? await verifyPassword(principal.passwordHash, password)
      : (await burnPasswordCheck(password), false);

  if (!principal || !ok || principal.disabledAt) {
    const cause = principal && ok && principal.disabledAt ? "disabled" : "bad_credentials";
    await db.$transaction(async (tx) => {
      await recordAuditEvent(tx, {
        actor: anonymous,
        action: "auth.sign_in_failed",
        ...(principal ? { target: { type: "principal", id: principal.id } } : {}),
        outcome: "denied",
        reason: cause === "disabled" ? "account disabled" : "bad credentials",
        payload: { provider: "credentials", emailHash, cause },
      });
    });
    throw new AppError("UNAUTHENTICATED", SIGN_IN_FAILED);
  }

  return db.$transaction(async (tx) => {
    const session = await tx.consoleSession.create({
      data: {
        principalId: principal.id,
        provider: "credentials",
        expiresAt: sessionExpiry(env.TETHER_SESSION_MAX_AGE_HOURS),
        ip: request.ip ?? null,
        userAgent: request.userAgent ?? null,
      },
    });
    await tx.principal.update({ where: { id: principal.id }, data: { lastSignInAt: new Date() } });
    await clearRateLimit(tx, accountKey);
    await releaseRateLimit(tx, ipKey);
    await recordAuditEvent(tx, {
      actor: { type: "user", id: principal.id, role: principal.role, name: principal.name, email: principal.email, request },
      action: "auth.signed_in",
      target: { type: "principal", id: principal.id },
      payload: { provider: "credentials", sessionId: session.id },
    });
    return { principalId: principal.id, sessionId: session.id, name: principal.name, email: principal.email, role: principal.role };
  });
}
