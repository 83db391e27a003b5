// OpenID Connect sign-in against the real database: the identity provider's groups decide the
// role at every sign-in, accounts are linked by email only when the provider verified it, and
// refusals are audited. Every test uses an issuer of its own, so (issuer, subject) never collide.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { signInWithOidc, type TOidcIdentity } from "@/lib/auth/sign-in-with-oidc";
import { keyedHash } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { createPrincipal, newRequest, uniqueEmail, uniqueIp } from "../factories/principals";
import { auditEventsFor, auditEventsOfRequest, writerOf } from "./support/audit";
import { setUpEnv, setUpTestSecrets } from "./support/env";
import { expectAppError } from "./support/errors";

setUpTestSecrets();
setUpEnv(() => ({
  OIDC_ROLE_CLAIM: "groups",
  OIDC_ROLE_MAP: "idp-admins=admin,idp-security=reviewer,idp-auditors=auditor",
  OIDC_DEFAULT_ROLE: undefined,
}));

const prisma = getPrisma();

afterAll(async () => {
  await prisma.$disconnect();
});

function identity(claims: Record<string, unknown>, subject = `sub-${randomUUID()}`): TOidcIdentity {
  return { issuer: `https://idp-${randomUUID()}.example.test`, subject, claims: { sub: subject, ...claims } };
}

function findByIdentity(id: TOidcIdentity) {
  return prisma.principal.findUnique({ where: { oidcIssuer_oidcSubject: { oidcIssuer: id.issuer, oidcSubject: id.subject } } });
}

describe("signInWithOidc", () => {
  it("creates a principal with the mapped role on first sign-in, audited as user.created and auth.signed_in", async () => {
    const email = uniqueEmail("oidc-new");
    const id = identity({ email: email.toUpperCase(), email_verified: true, name: "Sam Security", groups: ["staff", "idp-security"] });
    const request = newRequest({ ip: uniqueIp(), userAgent: "browser/1" });

    const signedIn = await signInWithOidc({ identity: id, request });

    expect(signedIn).toMatchObject({ name: "Sam Security", email, role: "reviewer" });
    const principal = await prisma.principal.findUniqueOrThrow({ where: { id: signedIn.principalId } });
    expect(principal).toMatchObject({
      kind: "user",
      role: "reviewer",
      email,
      name: "Sam Security",
      passwordHash: null,
      oidcIssuer: id.issuer,
      oidcSubject: id.subject,
      disabledAt: null,
      lastSignInAt: expect.any(Date),
    });
    const session = await prisma.consoleSession.findUniqueOrThrow({ where: { id: signedIn.sessionId } });
    expect(session).toMatchObject({ principalId: principal.id, provider: "oidc", endedAt: null, ip: request.ip, userAgent: "browser/1" });

    const events = await auditEventsOfRequest(prisma, request.requestId);
    expect(events.map((e) => e.action)).toEqual(["user.created", "auth.signed_in"]);
    expect(events[0]).toMatchObject({
      actorType: "system",
      actorId: "system",
      actorRole: null,
      targetType: "principal",
      targetId: principal.id,
      outcome: "ok",
      reason: "first OpenID Connect sign-in",
      payload: { email, role: "reviewer", kind: "user" },
    });
    expect(events[1]).toMatchObject({
      actorType: "user",
      actorId: principal.id,
      actorRole: "reviewer",
      targetId: principal.id,
      outcome: "ok",
      payload: { provider: "oidc", sessionId: signedIn.sessionId },
    });
    const writer = await writerOf(prisma, "principal", principal.id);
    expect(await writerOf(prisma, "console_session", session.id)).toBe(writer);
    for (const event of events) expect(await writerOf(prisma, "audit_event", event.id)).toBe(writer);
  });

  it("picks the most privileged mapped role, and accepts a role name as a group", async () => {
    const many = await signInWithOidc({ identity: identity({ groups: ["idp-auditors", "idp-admins", "idp-security"] }), request: newRequest() });
    expect(many.role).toBe("admin");
    const direct = await signInWithOidc({ identity: identity({ groups: "support" }), request: newRequest() });
    expect(direct.role).toBe("support");
  });

  it("changes the role when the provider's groups change, and audits user.role_changed", async () => {
    const first = identity({ email: uniqueEmail("oidc-change"), email_verified: true, groups: ["idp-security"] });
    const initial = await signInWithOidc({ identity: first, request: newRequest() });
    expect(initial.role).toBe("reviewer");

    const request = newRequest();
    const again = await signInWithOidc({ identity: { ...first, claims: { ...first.claims, groups: ["idp-auditors"] } }, request });

    expect(again).toMatchObject({ principalId: initial.principalId, role: "auditor" });
    expect(again.sessionId).not.toBe(initial.sessionId);
    expect((await prisma.principal.findUniqueOrThrow({ where: { id: initial.principalId } })).role).toBe("auditor");
    const events = await auditEventsOfRequest(prisma, request.requestId);
    expect(events.map((e) => e.action)).toEqual(["user.role_changed", "auth.signed_in"]);
    expect(events[0]).toMatchObject({
      actorType: "system",
      actorId: "system",
      targetId: initial.principalId,
      outcome: "ok",
      reason: "role mapped from the identity provider's groups claim",
      payload: { from: "reviewer", to: "auditor" },
    });
    expect(events[1]).toMatchObject({ actorId: initial.principalId, actorRole: "auditor" });
    expect(await writerOf(prisma, "audit_event", events[0]!.id)).toBe(await writerOf(prisma, "principal", initial.principalId));

    // Unchanged groups: no role event.
    const third = newRequest();
    await signInWithOidc({ identity: { ...first, claims: { ...first.claims, groups: ["idp-auditors"] } }, request: third });
    expect((await auditEventsOfRequest(prisma, third.requestId)).map((e) => e.action)).toEqual(["auth.signed_in"]);
  });

  it("refuses an identity whose groups map to no role with FORBIDDEN, creates nothing, and audits the refusal", async () => {
    const email = uniqueEmail("oidc-norole");
    const id = identity({ email, email_verified: true, groups: ["staff", "contractors"] });
    const request = newRequest();

    const error = await expectAppError(signInWithOidc({ identity: id, request }), "FORBIDDEN");

    expect(error.status).toBe(403);
    expect(await findByIdentity(id)).toBeNull();
    expect(await prisma.principal.count({ where: { email } })).toBe(0);
    const events = await auditEventsOfRequest(prisma, request.requestId);
    expect(events).toMatchObject([
      {
        action: "auth.sign_in_failed",
        actorType: "system",
        outcome: "denied",
        reason: "no role mapped from claim groups",
        payload: { provider: "oidc", emailHash: keyedHash("audit-ref", `email:${email}`), cause: "no_role" },
      },
    ]);
    expect(JSON.stringify(events[0]!.payload)).not.toContain(email.split("@")[0]);
  });

  it("links an existing password account with the same email when the provider verified the email", async () => {
    const existing = await createPrincipal(prisma, { role: "viewer", password: "a long enough password" });
    const id = identity({ email: existing.email!.toUpperCase(), email_verified: true, groups: ["idp-security"] });
    const request = newRequest();

    const signedIn = await signInWithOidc({ identity: id, request });

    expect(signedIn.principalId).toBe(existing.id);
    const linked = await prisma.principal.findUniqueOrThrow({ where: { id: existing.id } });
    expect(linked).toMatchObject({ oidcIssuer: id.issuer, oidcSubject: id.subject, role: "reviewer", passwordHash: existing.passwordHash });
    expect(await prisma.principal.count({ where: { email: existing.email } })).toBe(1);
    expect((await auditEventsOfRequest(prisma, request.requestId)).map((e) => e.action)).toEqual(["user.role_changed", "auth.signed_in"]);
  });

  it.each([
    ["false", false],
    ["missing", undefined],
    ["the string 'true'", "true"],
  ])("refuses to link an existing account when email_verified is %s (CONFLICT)", async (_label, emailVerified) => {
    const existing = await createPrincipal(prisma, { role: "viewer", password: "a long enough password" });
    const id = identity({ email: existing.email, ...(emailVerified === undefined ? {} : { email_verified: emailVerified }), groups: ["idp-admins"] });
    const request = newRequest();

    const error = await expectAppError(signInWithOidc({ identity: id, request }), "CONFLICT");

    expect(error.status).toBe(409);
    expect(await prisma.principal.findUniqueOrThrow({ where: { id: existing.id } })).toEqual(existing);
    expect(await findByIdentity(id)).toBeNull();
    expect(await prisma.consoleSession.count({ where: { principalId: existing.id } })).toBe(0);
    expect(await auditEventsOfRequest(prisma, request.requestId)).toEqual([]);
  });

  it("refuses to link an account that is already linked to another identity (CONFLICT)", async () => {
    const email = uniqueEmail("oidc-taken");
    const taken = await signInWithOidc({ identity: identity({ email, email_verified: true, groups: ["idp-security"] }), request: newRequest() });
    const other = identity({ email, email_verified: true, groups: ["idp-admins"] });

    await expectAppError(signInWithOidc({ identity: other, request: newRequest() }), "CONFLICT");

    expect((await prisma.principal.findUniqueOrThrow({ where: { id: taken.principalId } })).role).toBe("reviewer");
    expect(await findByIdentity(other)).toBeNull();
  });

  it("refuses a disabled principal with FORBIDDEN and keeps the audit of the refusal", async () => {
    const id = identity({ email: uniqueEmail("oidc-disabled"), email_verified: true, groups: ["idp-security"] });
    const disabled = await createPrincipal(prisma, { role: "reviewer", email: id.claims.email as string, oidc: { issuer: id.issuer, subject: id.subject }, disabled: true });
    const request = newRequest();

    const error = await expectAppError(signInWithOidc({ identity: id, request }), "FORBIDDEN");

    expect(error.message).toBe("Your account is disabled.");
    expect(await prisma.consoleSession.count({ where: { principalId: disabled.id } })).toBe(0);
    expect(await auditEventsOfRequest(prisma, request.requestId)).toMatchObject([
      {
        action: "auth.sign_in_failed",
        actorType: "system",
        targetType: "principal",
        targetId: disabled.id,
        outcome: "denied",
        reason: "account disabled",
        payload: { provider: "oidc", cause: "disabled" },
      },
    ]);
    expect(await auditEventsFor(prisma, disabled.id, "auth.signed_in")).toEqual([]);
  });

  it("names a user without a name claim after preferred_username, then email, then subject", async () => {
    const byUsername = await signInWithOidc({ identity: identity({ preferred_username: "sam", groups: ["viewer"] }), request: newRequest() });
    expect(byUsername.name).toBe("sam");
    const email = uniqueEmail("oidc-name");
    const byEmail = await signInWithOidc({ identity: identity({ email, groups: ["viewer"] }), request: newRequest() });
    expect(byEmail.name).toBe(email);
    const bySubject = await signInWithOidc({ identity: identity({ groups: ["viewer"] }, "subject-only"), request: newRequest() });
    expect(bySubject).toMatchObject({ name: "subject-only", email: null });
  });
});
