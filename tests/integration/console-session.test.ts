// Console sessions against the real database: the session row, not the cookie, decides who is
// signed in. Sign-out ends the row once; ended, expired and disabled sessions resolve to nobody;
// a role change applies on the very next request.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { endConsoleSession } from "@/lib/auth/end-console-session";
import { getConsoleActor } from "@/lib/auth/get-console-actor";
import { signInWithPassword } from "@/lib/auth/sign-in-with-password";
import { getPrisma } from "@/lib/db/client";
import { changeUserRole } from "@/lib/users/change-user-role";
import { setUserDisabled } from "@/lib/users/set-user-disabled";
import { createConsoleSession, createPrincipal, newRequest, uniqueIp, userActor } from "../factories/principals";
import { auditEventsFor, auditEventsOfRequest, writerOf } from "./support/audit";
import { setUpTestSecrets } from "./support/env";

setUpTestSecrets();

const prisma = getPrisma();

afterAll(async () => {
  await prisma.$disconnect();
});

describe("endConsoleSession", () => {
  it("ends the session and records auth.signed_out in the same commit", async () => {
    const user = await createPrincipal(prisma, { role: "auditor" });
    const session = await createConsoleSession(prisma, user);
    const request = newRequest({ ip: uniqueIp() });

    await endConsoleSession({ sessionId: session.id, request });

    const ended = await prisma.consoleSession.findUniqueOrThrow({ where: { id: session.id } });
    expect(ended).toMatchObject({ endedAt: expect.any(Date), endReason: "signed_out" });
    const events = await auditEventsOfRequest(prisma, request.requestId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "auth.signed_out",
      actorType: "user",
      actorId: user.id,
      actorRole: "auditor",
      targetType: "principal",
      targetId: user.id,
      outcome: "ok",
      ip: request.ip,
      payload: { sessionId: session.id },
    });
    expect(await writerOf(prisma, "audit_event", events[0]!.id)).toBe(await writerOf(prisma, "console_session", session.id));
  });

  it("ends a session only once: a second sign-out changes nothing and records nothing", async () => {
    const user = await createPrincipal(prisma, { role: "viewer" });
    const session = await createConsoleSession(prisma, user);
    await endConsoleSession({ sessionId: session.id, request: newRequest() });
    const ended = await prisma.consoleSession.findUniqueOrThrow({ where: { id: session.id } });

    const second = newRequest();
    await endConsoleSession({ sessionId: session.id, request: second });

    expect(await prisma.consoleSession.findUniqueOrThrow({ where: { id: session.id } })).toEqual(ended);
    expect(await auditEventsOfRequest(prisma, second.requestId)).toEqual([]);
    expect(await auditEventsFor(prisma, user.id, "auth.signed_out")).toHaveLength(1);
  });

  it("records one event when the same session is signed out twice at once", async () => {
    const user = await createPrincipal(prisma, { role: "viewer" });
    const session = await createConsoleSession(prisma, user);

    await Promise.all([endConsoleSession({ sessionId: session.id, request: newRequest() }), endConsoleSession({ sessionId: session.id, request: newRequest() })]);

    expect(await auditEventsFor(prisma, user.id, "auth.signed_out")).toHaveLength(1);
  });

  it("does nothing for an unknown session id", async () => {
    const request = newRequest();
    await expect(endConsoleSession({ sessionId: randomUUID(), request })).resolves.toBeUndefined();
    expect(await auditEventsOfRequest(prisma, request.requestId)).toEqual([]);
  });

  it("does not re-end a session that a disabled account already ended", async () => {
    const user = await createPrincipal(prisma, { role: "viewer" });
    const session = await createConsoleSession(prisma, user);
    await setUserDisabled({ actor: userActor("admin"), data: { userId: user.id, disabled: true, reason: "offboarded" } });

    const request = newRequest();
    await endConsoleSession({ sessionId: session.id, request });

    expect((await prisma.consoleSession.findUniqueOrThrow({ where: { id: session.id } })).endReason).toBe("principal_disabled");
    expect(await auditEventsOfRequest(prisma, request.requestId)).toEqual([]);
  });
});

describe("getConsoleActor", () => {
  it("resolves a live session to its user, with the session id and the request", async () => {
    const user = await createPrincipal(prisma, { role: "reviewer" });
    const session = await createConsoleSession(prisma, user);
    const request = newRequest({ ip: uniqueIp() });

    expect(await getConsoleActor(session.id, request)).toEqual({
      type: "user",
      id: user.id,
      role: "reviewer",
      name: user.name,
      email: user.email,
      sessionId: session.id,
      request,
    });
  });

  it("resolves a session opened by signInWithPassword and stops after endConsoleSession", async () => {
    const password = "console session password";
    const user = await createPrincipal(prisma, { role: "support", password });
    const signedIn = await signInWithPassword({ email: user.email, password, request: newRequest({ ip: uniqueIp() }) });

    expect(await getConsoleActor(signedIn.sessionId, newRequest())).toMatchObject({ id: user.id, role: "support" });
    await endConsoleSession({ sessionId: signedIn.sessionId, request: newRequest() });
    expect(await getConsoleActor(signedIn.sessionId, newRequest())).toBeNull();
  });

  it("returns null for an ended session", async () => {
    const user = await createPrincipal(prisma, { role: "viewer" });
    const session = await createConsoleSession(prisma, user, { endedAt: new Date(), endReason: "signed_out" });
    expect(await getConsoleActor(session.id, newRequest())).toBeNull();
  });

  it("returns null once the session has expired", async () => {
    const user = await createPrincipal(prisma, { role: "viewer" });
    const session = await createConsoleSession(prisma, user);
    expect(await getConsoleActor(session.id, newRequest())).not.toBeNull();

    await prisma.consoleSession.update({ where: { id: session.id }, data: { expiresAt: new Date(Date.now() - 1_000) } });

    expect(await getConsoleActor(session.id, newRequest())).toBeNull();
  });

  it("returns null for a disabled user, even while the session row itself is still open", async () => {
    const user = await createPrincipal(prisma, { role: "viewer" });
    const session = await createConsoleSession(prisma, user);

    await prisma.principal.update({ where: { id: user.id }, data: { disabledAt: new Date() } });

    expect((await prisma.consoleSession.findUniqueOrThrow({ where: { id: session.id } })).endedAt).toBeNull();
    expect(await getConsoleActor(session.id, newRequest())).toBeNull();
  });

  it("returns null after the user is disabled through setUserDisabled", async () => {
    const user = await createPrincipal(prisma, { role: "reviewer" });
    const session = await createConsoleSession(prisma, user);

    await setUserDisabled({ actor: userActor("admin"), data: { userId: user.id, disabled: true, reason: "offboarded" } });

    expect(await getConsoleActor(session.id, newRequest())).toBeNull();
  });

  it("returns null for an unknown session id and for a session of a non-user principal", async () => {
    const service = await createPrincipal(prisma, { kind: "service", role: "admin", email: null });
    const serviceSession = await createConsoleSession(prisma, service);

    expect(await getConsoleActor(randomUUID(), newRequest())).toBeNull();
    expect(await getConsoleActor(serviceSession.id, newRequest())).toBeNull();
  });

  it("reflects a role change on the next call", async () => {
    const user = await createPrincipal(prisma, { role: "reviewer" });
    const session = await createConsoleSession(prisma, user);
    expect(await getConsoleActor(session.id, newRequest())).toMatchObject({ role: "reviewer" });

    await changeUserRole({ actor: userActor("admin"), data: { userId: user.id, role: "auditor" } });

    expect(await getConsoleActor(session.id, newRequest())).toMatchObject({ id: user.id, role: "auditor", sessionId: session.id });
  });
});
