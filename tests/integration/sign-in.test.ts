// Email + password sign-in against the real database: sessions, the one failure message, the
// audit trail of failures (keyed email hash, never the address) and the shared rate limit.
// Every test signs in from its own client address, so the per-address counters never collide.
import { afterAll, describe, expect, it } from "vitest";
import { SIGN_IN_FAILED, signInWithPassword } from "@/lib/auth/sign-in-with-password";
import { keyedHash } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { getEnv } from "@/lib/env";
import { createPrincipal, newRequest, uniqueEmail, uniqueIp } from "../factories/principals";
import { auditEventsOfRequest, writerOf } from "./support/audit";
import { setUpTestSecrets } from "./support/env";
import { expectAppError, issuePaths } from "./support/errors";

setUpTestSecrets();

const prisma = getPrisma();
const PASSWORD = "correct horse battery staple";

afterAll(async () => {
  await prisma.$disconnect();
});

/** The whole stored row as text, to search it for leaked values. */
function asText(row: object): string {
  return JSON.stringify(row, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)).toLowerCase();
}

function emailHash(email: string): string {
  return keyedHash("audit-ref", `email:${email}`);
}

async function signUp(options: { role?: "admin" | "reviewer"; disabled?: boolean } = {}) {
  return createPrincipal(prisma, { role: options.role ?? "reviewer", password: PASSWORD, disabled: options.disabled ?? false });
}

/** One failed attempt that must be refused with the generic message. */
async function failSignIn(email: string, password: string, ip: string) {
  const request = newRequest({ ip });
  const error = await expectAppError(signInWithPassword({ email, password, request }), "UNAUTHENTICATED");
  expect(error.status).toBe(401);
  expect(error.message).toBe(SIGN_IN_FAILED);
  return request;
}

describe("signInWithPassword", () => {
  it("opens a console session and records auth.signed_in in the same commit", async () => {
    const user = await signUp();
    const request = newRequest({ ip: uniqueIp(), userAgent: "vitest-agent/1.0" });
    const before = Date.now();

    const signedIn = await signInWithPassword({ email: `  ${user.email!.toUpperCase()} `, password: PASSWORD, request });

    expect(signedIn).toEqual({ principalId: user.id, sessionId: expect.any(String), name: user.name, email: user.email, role: "reviewer" });
    const session = await prisma.consoleSession.findUniqueOrThrow({ where: { id: signedIn.sessionId } });
    expect(session).toMatchObject({ principalId: user.id, provider: "credentials", endedAt: null, ip: request.ip, userAgent: "vitest-agent/1.0" });
    const maxAgeMs = getEnv().TETHER_SESSION_MAX_AGE_HOURS * 3_600_000;
    expect(session.expiresAt.getTime()).toBeGreaterThanOrEqual(before + maxAgeMs - 1_000);
    expect(session.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + maxAgeMs + 1_000);
    expect((await prisma.principal.findUniqueOrThrow({ where: { id: user.id } })).lastSignInAt).toBeInstanceOf(Date);

    const events = await auditEventsOfRequest(prisma, request.requestId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "auth.signed_in",
      actorType: "user",
      actorId: user.id,
      actorRole: "reviewer",
      targetType: "principal",
      targetId: user.id,
      outcome: "ok",
      reason: null,
      ip: request.ip,
      userAgent: "vitest-agent/1.0",
      payload: { provider: "credentials", sessionId: signedIn.sessionId },
    });
    expect(await writerOf(prisma, "audit_event", events[0]!.id)).toBe(await writerOf(prisma, "console_session", signedIn.sessionId));
  });

  it("refuses a wrong password with the generic message and audits it without the address", async () => {
    const user = await signUp();
    const email = user.email!;

    const request = await failSignIn(email, "not the password at all", uniqueIp());

    const events = await auditEventsOfRequest(prisma, request.requestId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "auth.sign_in_failed",
      actorType: "system",
      actorId: "system",
      actorRole: null,
      targetType: "principal",
      targetId: user.id,
      outcome: "denied",
      reason: "bad credentials",
      ip: request.ip,
      payload: { provider: "credentials", emailHash: emailHash(email), cause: "bad_credentials" },
    });
    const stored = asText(events[0]!);
    expect(stored).not.toContain(email);
    expect(stored).not.toContain(email.split("@")[0]);
    expect(await prisma.consoleSession.count({ where: { principalId: user.id } })).toBe(0);
  });

  it("refuses an unknown address with the same message, audited by hash only", async () => {
    const email = uniqueEmail("nobody");

    const request = await failSignIn(email, PASSWORD, uniqueIp());

    const events = await auditEventsOfRequest(prisma, request.requestId);
    expect(events).toMatchObject([
      {
        action: "auth.sign_in_failed",
        targetId: null,
        outcome: "denied",
        payload: { provider: "credentials", emailHash: emailHash(email), cause: "bad_credentials" },
      },
    ]);
    expect(asText(events[0]!)).not.toContain(email.split("@")[0]);
  });

  it("refuses a disabled user with the right password with the same message, audited as disabled", async () => {
    const user = await signUp({ disabled: true });

    const request = await failSignIn(user.email!, PASSWORD, uniqueIp());

    expect(await auditEventsOfRequest(prisma, request.requestId)).toMatchObject([
      { action: "auth.sign_in_failed", targetId: user.id, outcome: "denied", reason: "account disabled", payload: { cause: "disabled" } },
    ]);
    expect(await prisma.consoleSession.count({ where: { principalId: user.id } })).toBe(0);
  });

  it("refuses a service principal's address even with a password hash", async () => {
    const service = await createPrincipal(prisma, { kind: "service", role: "admin", password: PASSWORD });

    await failSignIn(service.email!, PASSWORD, uniqueIp());

    expect(await prisma.consoleSession.count({ where: { principalId: service.id } })).toBe(0);
  });

  it("refuses every attempt on an account after TETHER_SIGNIN_MAX_ATTEMPTS failures, even with the right password", async () => {
    const user = await signUp();
    const limit = getEnv().TETHER_SIGNIN_MAX_ATTEMPTS;
    const ip = uniqueIp();

    for (let i = 0; i < limit; i++) await failSignIn(user.email!, `wrong password ${i}`, ip);
    const request = newRequest({ ip });
    const error = await expectAppError(signInWithPassword({ email: user.email!, password: PASSWORD, request }), "RATE_LIMITED");

    expect(error.status).toBe(429);
    expect(error.message).toMatch(/^Too many failed sign-in attempts\. Try again in \d+ minute\(s\)\.$/);
    const retryAfter = (error.details as { retryAfterSeconds: number }).retryAfterSeconds;
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(getEnv().TETHER_SIGNIN_WINDOW_SECONDS);
    expect(await auditEventsOfRequest(prisma, request.requestId)).toMatchObject([
      {
        action: "auth.sign_in_failed",
        outcome: "denied",
        reason: "too many failed attempts",
        payload: { provider: "credentials", emailHash: emailHash(user.email!), cause: "rate_limited" },
      },
    ]);
    expect(await prisma.consoleSession.count({ where: { principalId: user.id } })).toBe(0);
  });

  it("counts failures per account across client addresses", async () => {
    const user = await signUp();
    const limit = getEnv().TETHER_SIGNIN_MAX_ATTEMPTS;

    for (let i = 0; i < limit; i++) await failSignIn(user.email!, `wrong password ${i}`, uniqueIp());

    await expectAppError(signInWithPassword({ email: user.email!, password: PASSWORD, request: newRequest({ ip: uniqueIp() }) }), "RATE_LIMITED");
  });

  it("counts failures per client address across accounts (four times the account limit)", async () => {
    const user = await signUp();
    const ip = uniqueIp();
    const perAddress = getEnv().TETHER_SIGNIN_MAX_ATTEMPTS * 4;

    for (let i = 0; i < perAddress; i++) await failSignIn(uniqueEmail("spray"), PASSWORD, ip);

    await expectAppError(signInWithPassword({ email: user.email!, password: PASSWORD, request: newRequest({ ip }) }), "RATE_LIMITED");
    // The same account from another address is not affected.
    await signInWithPassword({ email: user.email!, password: PASSWORD, request: newRequest({ ip: uniqueIp() }) });
  });

  it("clears the account's failure count on a successful sign-in", async () => {
    const user = await signUp();
    const limit = getEnv().TETHER_SIGNIN_MAX_ATTEMPTS;
    const accountKey = `signin:acct:${emailHash(user.email!)}`;

    for (let i = 0; i < limit - 1; i++) await failSignIn(user.email!, `wrong password ${i}`, uniqueIp());
    expect(await prisma.rateLimit.findUnique({ where: { key: accountKey } })).toMatchObject({ count: limit - 1 });
    await signInWithPassword({ email: user.email!, password: PASSWORD, request: newRequest({ ip: uniqueIp() }) });

    expect(await prisma.rateLimit.findUnique({ where: { key: accountKey } })).toBeNull();
    await failSignIn(user.email!, "wrong once more", uniqueIp());
    await signInWithPassword({ email: user.email!, password: PASSWORD, request: newRequest({ ip: uniqueIp() }) });
  });

  it("refuses malformed input with INVALID_INPUT and writes nothing", async () => {
    const ip = uniqueIp();
    const cases: Array<{ email: unknown; password: unknown; fields: string[] }> = [
      { email: "not-an-email", password: "", fields: ["email", "password"] },
      { email: undefined, password: undefined, fields: ["email", "password"] },
      { email: uniqueEmail("long"), password: "x".repeat(257), fields: ["password"] },
      { email: 42, password: PASSWORD, fields: ["email"] },
    ];

    for (const { email, password, fields } of cases) {
      const request = newRequest({ ip });
      const error = await expectAppError(signInWithPassword({ email, password, request }), "INVALID_INPUT");
      expect(error.status).toBe(422);
      expect(error.message).toBe("Enter a valid email address and your password.");
      expect(issuePaths(error)).toEqual(fields);
      expect(await auditEventsOfRequest(prisma, request.requestId)).toEqual([]);
    }
    expect(await prisma.rateLimit.findUnique({ where: { key: `signin:ip:${ip}` } })).toBeNull();
  });

  // Each attempt takes its slot atomically before the password check, so parallel guesses
  // cannot all slip past the limit.
  it("refuses parallel guesses beyond the account limit", async () => {
    const user = await signUp();
    const limit = getEnv().TETHER_SIGNIN_MAX_ATTEMPTS;
    const guesses = Array.from({ length: limit * 3 }, (_, i) => `parallel guess ${i}`);

    const results = await Promise.allSettled(
      guesses.map((password) => signInWithPassword({ email: user.email!, password, request: newRequest({ ip: uniqueIp() }) })),
    );

    const checked = results.filter((r) => r.status === "rejected" && (r.reason as { code?: string }).code === "UNAUTHENTICATED");
    expect(checked.length).toBeLessThanOrEqual(limit);
  });
});
