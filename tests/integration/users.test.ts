// User administration use cases against the real database: who may act, what they may act on,
// which states refuse, and that every change commits together with its audit event.
// Rules about the last active administrator need a database of their own: see last-admin.test.ts.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { verifyPassword } from "@/lib/auth/password";
import { getPrisma } from "@/lib/db/client";
import { changeUserRole } from "@/lib/users/change-user-role";
import { createUser } from "@/lib/users/create-user";
import { listUsers } from "@/lib/users/list-users";
import { setUserDisabled } from "@/lib/users/set-user-disabled";
import { actorFor, createConsoleSession, createPrincipal, uniqueEmail, userActor } from "../factories/principals";
import { auditEventsFor, auditEventsOfRequest, writerOf } from "./support/audit";
import { expectAppError, issuePaths } from "./support/errors";
import { FORCED_AUDIT_FAILURE, withFailingAuditInserts, withSlowPrincipalInserts } from "./support/triggers";

const prisma = getPrisma();

afterAll(async () => {
  await prisma.$disconnect();
});

const DENIED_ROLES = ["reviewer", "support", "auditor", "viewer"] as const;

describe("createUser", () => {
  it("creates a user and its user.created audit event in one commit (admin)", async () => {
    const actor = userActor("admin");
    const email = uniqueEmail("new");

    const dto = await createUser({
      actor,
      data: { email: `  ${email.toUpperCase()} `, name: "  Ada Lovelace ", role: "reviewer", password: "correct horse battery" },
    });

    expect(dto).toMatchObject({ kind: "user", email, name: "Ada Lovelace", role: "reviewer", disabledAt: null, sso: false });
    expect(dto).not.toHaveProperty("passwordHash");
    const row = await prisma.principal.findUniqueOrThrow({ where: { id: dto.id } });
    expect(row.email).toBe(email);
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(row.passwordHash!, "correct horse battery")).toBe(true);

    const events = await auditEventsFor(prisma, dto.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "user.created",
      actorType: "user",
      actorId: actor.id,
      actorRole: "admin",
      targetType: "principal",
      targetId: dto.id,
      outcome: "ok",
      reason: null,
      requestId: actor.request.requestId,
      payload: { email, role: "reviewer", kind: "user" },
    });
    expect(await writerOf(prisma, "audit_event", events[0]!.id)).toBe(await writerOf(prisma, "principal", dto.id));
  });

  it("creates an SSO-only user without a password", async () => {
    const email = uniqueEmail("sso-only");
    const dto = await createUser({ actor: userActor("admin"), data: { email, name: "No Password", role: "viewer" } });
    const row = await prisma.principal.findUniqueOrThrow({ where: { id: dto.id } });
    expect(row.passwordHash).toBeNull();
  });

  it.each(DENIED_ROLES)("refuses %s with FORBIDDEN and writes nothing", async (role) => {
    const actor = userActor(role);
    const email = uniqueEmail("denied");

    const error = await expectAppError(createUser({ actor, data: { email, name: "Nope", role: "admin" } }), "FORBIDDEN");

    expect(error.status).toBe(403);
    expect(await prisma.principal.count({ where: { email } })).toBe(0);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("refuses invalid input with INVALID_INPUT naming each field, and writes nothing", async () => {
    const actor = userActor("admin");

    const error = await expectAppError(
      createUser({ actor, data: { email: "not-an-email", name: "   ", role: "owner", password: "short" } }),
      "INVALID_INPUT",
    );

    expect(error.status).toBe(422);
    expect(issuePaths(error)).toEqual(["email", "name", "password", "role"]);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("writes nothing when only one field is invalid", async () => {
    const actor = userActor("admin");
    const email = uniqueEmail("half-valid");

    const error = await expectAppError(createUser({ actor, data: { email, name: "Valid Name", role: "superuser" } }), "INVALID_INPUT");

    expect(issuePaths(error)).toEqual(["role"]);
    expect(await prisma.principal.count({ where: { email } })).toBe(0);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("refuses an email that is taken, also when it differs only in case, with CONFLICT on email", async () => {
    const email = uniqueEmail("taken");
    const existing = await createPrincipal(prisma, { email, role: "viewer" });

    for (const attempt of [email, email.toUpperCase(), `Taken${email.slice("taken".length)}`]) {
      const actor = userActor("admin");
      const error = await expectAppError(createUser({ actor, data: { email: attempt, name: "Duplicate", role: "viewer" } }), "CONFLICT");
      expect(error.status).toBe(409);
      expect(error.issues).toEqual([{ path: "email", message: "A user with this email already exists." }]);
      expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
    }
    expect(await prisma.principal.findMany({ where: { email } })).toEqual([existing]);
  });

  it("lets exactly one of two simultaneous creations of one email win; the other gets CONFLICT", async () => {
    const email = uniqueEmail("race");
    const actors = [userActor("admin"), userActor("admin")];

    // Slow inserts: both requests pass the "email taken?" look-up before either commits, so the
    // unique index decides (the P2002 branch of createUser).
    const results = await withSlowPrincipalInserts(prisma, email, 0.5, () =>
      Promise.allSettled(actors.map((actor) => createUser({ actor, data: { email, name: "Racer", role: "viewer" } }))),
    );

    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.filter((r) => r.status === "rejected");
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toMatchObject({ code: "CONFLICT", issues: [{ path: "email", message: "A user with this email already exists." }] });
    const rows = await prisma.principal.findMany({ where: { email } });
    expect(rows).toHaveLength(1);
    expect(await auditEventsFor(prisma, rows[0]!.id, "user.created")).toHaveLength(1);
  });

  it("fails closed: when the audit insert fails, no user is created", async () => {
    const actor = userActor("admin");
    const email = uniqueEmail("fail-closed");

    await withFailingAuditInserts(prisma, { payloadEmail: email }, async () => {
      await expect(createUser({ actor, data: { email, name: "Never Stored", role: "viewer" } })).rejects.toThrow(FORCED_AUDIT_FAILURE);
    });

    expect(await prisma.principal.count({ where: { email } })).toBe(0);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });
});

describe("changeUserRole", () => {
  it("changes the role and records user.role_changed in the same commit (admin)", async () => {
    const target = await createPrincipal(prisma, { role: "reviewer" });
    const actor = userActor("admin");

    const dto = await changeUserRole({ actor, data: { userId: target.id, role: "auditor" } });

    expect(dto).toMatchObject({ id: target.id, role: "auditor" });
    expect((await prisma.principal.findUniqueOrThrow({ where: { id: target.id } })).role).toBe("auditor");
    const events = await auditEventsFor(prisma, target.id, "user.role_changed");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actorType: "user",
      actorId: actor.id,
      actorRole: "admin",
      targetType: "principal",
      outcome: "ok",
      reason: null,
      requestId: actor.request.requestId,
      payload: { from: "reviewer", to: "auditor" },
    });
    expect(await writerOf(prisma, "audit_event", events[0]!.id)).toBe(await writerOf(prisma, "principal", target.id));
  });

  it("demotes an administrator while another active administrator remains", async () => {
    const target = await createPrincipal(prisma, { role: "admin" });
    await createPrincipal(prisma, { role: "admin" });
    const actor = userActor("admin");

    await changeUserRole({ actor, data: { userId: target.id, role: "viewer" } });

    expect((await prisma.principal.findUniqueOrThrow({ where: { id: target.id } })).role).toBe("viewer");
    expect(await auditEventsFor(prisma, target.id, "user.role_changed")).toMatchObject([{ payload: { from: "admin", to: "viewer" } }]);
  });

  it("treats setting the current role as a no-op without an audit event", async () => {
    const target = await createPrincipal(prisma, { role: "support" });
    const actor = userActor("admin");

    const dto = await changeUserRole({ actor, data: { userId: target.id, role: "support" } });

    expect(dto.role).toBe("support");
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it.each(DENIED_ROLES)("refuses %s with FORBIDDEN and writes nothing", async (role) => {
    const target = await createPrincipal(prisma, { role: "viewer" });
    const actor = userActor(role);

    const error = await expectAppError(changeUserRole({ actor, data: { userId: target.id, role: "admin" } }), "FORBIDDEN");

    expect(error.status).toBe(403);
    expect((await prisma.principal.findUniqueOrThrow({ where: { id: target.id } })).role).toBe("viewer");
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("answers NOT_FOUND for an unknown id and for a principal that is not a console user", async () => {
    const service = await createPrincipal(prisma, { kind: "service", role: "viewer", email: null });
    const actor = userActor("admin");

    for (const userId of [randomUUID(), service.id]) {
      const error = await expectAppError(changeUserRole({ actor, data: { userId, role: "reviewer" } }), "NOT_FOUND");
      expect(error.status).toBe(404);
    }
    expect((await prisma.principal.findUniqueOrThrow({ where: { id: service.id } })).role).toBe("viewer");
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("refuses to change your own role with INVALID_STATE", async () => {
    const self = await createPrincipal(prisma, { role: "admin" });
    await createPrincipal(prisma, { role: "admin" });
    const actor = actorFor(self);

    const error = await expectAppError(changeUserRole({ actor, data: { userId: self.id, role: "viewer" } }), "INVALID_STATE");

    expect(error.status).toBe(409);
    expect((await prisma.principal.findUniqueOrThrow({ where: { id: self.id } })).role).toBe("admin");
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("refuses invalid input with INVALID_INPUT naming each field", async () => {
    const actor = userActor("admin");

    const bad = await expectAppError(changeUserRole({ actor, data: { userId: "not-a-uuid", role: "owner" } }), "INVALID_INPUT");
    expect(bad.status).toBe(422);
    expect(issuePaths(bad)).toEqual(["role", "userId"]);

    const missing = await expectAppError(changeUserRole({ actor, data: {} }), "INVALID_INPUT");
    expect(issuePaths(missing)).toEqual(["role", "userId"]);

    const target = await createPrincipal(prisma, { role: "viewer" });
    const wrongRole = await expectAppError(changeUserRole({ actor, data: { userId: target.id, role: "root" } }), "INVALID_INPUT");
    expect(issuePaths(wrongRole)).toEqual(["role"]);
    expect((await prisma.principal.findUniqueOrThrow({ where: { id: target.id } })).role).toBe("viewer");
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("fails closed: when the audit insert fails, the role stays as it was", async () => {
    const target = await createPrincipal(prisma, { role: "reviewer" });
    const actor = userActor("admin");

    await withFailingAuditInserts(prisma, { targetId: target.id }, async () => {
      await expect(changeUserRole({ actor, data: { userId: target.id, role: "auditor" } })).rejects.toThrow(FORCED_AUDIT_FAILURE);
    });

    expect((await prisma.principal.findUniqueOrThrow({ where: { id: target.id } })).role).toBe("reviewer");
    expect(await auditEventsFor(prisma, target.id)).toEqual([]);
  });
});

describe("setUserDisabled", () => {
  it("disables a user, ends their open console sessions and audits it in the same commit (admin)", async () => {
    const target = await createPrincipal(prisma, { role: "reviewer" });
    const open = [await createConsoleSession(prisma, target), await createConsoleSession(prisma, target)];
    const endedBefore = new Date(Date.now() - 60_000);
    const ended = await createConsoleSession(prisma, target, { endedAt: endedBefore, endReason: "signed_out" });
    const actor = userActor("admin");

    const dto = await setUserDisabled({ actor, data: { userId: target.id, disabled: true, reason: "  left the company  " } });

    expect(dto.disabledAt).toBeInstanceOf(Date);
    expect((await prisma.principal.findUniqueOrThrow({ where: { id: target.id } })).disabledAt).toEqual(dto.disabledAt);
    for (const session of open) {
      expect(await prisma.consoleSession.findUniqueOrThrow({ where: { id: session.id } })).toMatchObject({
        endedAt: expect.any(Date),
        endReason: "principal_disabled",
      });
    }
    expect(await prisma.consoleSession.findUniqueOrThrow({ where: { id: ended.id } })).toMatchObject({
      endedAt: endedBefore,
      endReason: "signed_out",
    });

    const events = await auditEventsFor(prisma, target.id, "user.disabled");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actorType: "user",
      actorId: actor.id,
      actorRole: "admin",
      targetType: "principal",
      outcome: "ok",
      reason: "left the company",
      requestId: actor.request.requestId,
      payload: { endedSessions: 2 },
    });
    const writer = await writerOf(prisma, "audit_event", events[0]!.id);
    expect(await writerOf(prisma, "principal", target.id)).toBe(writer);
    expect(await writerOf(prisma, "console_session", open[0]!.id)).toBe(writer);
  });

  it("re-enables a disabled user and records user.enabled with the reason", async () => {
    const target = await createPrincipal(prisma, { role: "viewer", disabled: true });
    const actor = userActor("admin");

    const dto = await setUserDisabled({ actor, data: { userId: target.id, disabled: false, reason: "came back" } });

    expect(dto.disabledAt).toBeNull();
    const events = await auditEventsFor(prisma, target.id, "user.enabled");
    expect(events).toMatchObject([{ actorId: actor.id, actorRole: "admin", outcome: "ok", reason: "came back", requestId: actor.request.requestId, payload: {} }]);
    expect(await writerOf(prisma, "audit_event", events[0]!.id)).toBe(await writerOf(prisma, "principal", target.id));
  });

  it.each(DENIED_ROLES)("refuses %s with FORBIDDEN and writes nothing", async (role) => {
    const target = await createPrincipal(prisma, { role: "viewer" });
    const session = await createConsoleSession(prisma, target);
    const actor = userActor(role);

    const error = await expectAppError(setUserDisabled({ actor, data: { userId: target.id, disabled: true, reason: "not allowed" } }), "FORBIDDEN");

    expect(error.status).toBe(403);
    expect((await prisma.principal.findUniqueOrThrow({ where: { id: target.id } })).disabledAt).toBeNull();
    expect((await prisma.consoleSession.findUniqueOrThrow({ where: { id: session.id } })).endedAt).toBeNull();
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("answers NOT_FOUND for an unknown id and for a principal that is not a console user", async () => {
    const service = await createPrincipal(prisma, { kind: "service", role: "viewer", email: null });
    const actor = userActor("admin");

    for (const userId of [randomUUID(), service.id]) {
      const error = await expectAppError(setUserDisabled({ actor, data: { userId, disabled: true, reason: "gone" } }), "NOT_FOUND");
      expect(error.status).toBe(404);
    }
    expect((await prisma.principal.findUniqueOrThrow({ where: { id: service.id } })).disabledAt).toBeNull();
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("refuses to disable a user who is already disabled, or enable one who is enabled (INVALID_STATE)", async () => {
    const disabled = await createPrincipal(prisma, { role: "viewer", disabled: true });
    const enabled = await createPrincipal(prisma, { role: "viewer" });
    const actor = userActor("admin");

    const again = await expectAppError(setUserDisabled({ actor, data: { userId: disabled.id, disabled: true, reason: "twice" } }), "INVALID_STATE");
    expect(again.status).toBe(409);
    expect(again.message).toBe("This user is already disabled.");
    const enableEnabled = await expectAppError(
      setUserDisabled({ actor, data: { userId: enabled.id, disabled: false, reason: "already on" } }),
      "INVALID_STATE",
    );
    expect(enableEnabled.message).toBe("This user is already enabled.");

    expect(await prisma.principal.findUniqueOrThrow({ where: { id: disabled.id } })).toEqual(disabled);
    expect(await prisma.principal.findUniqueOrThrow({ where: { id: enabled.id } })).toEqual(enabled);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("refuses to disable your own account (INVALID_STATE)", async () => {
    const self = await createPrincipal(prisma, { role: "admin" });
    await createPrincipal(prisma, { role: "admin" });
    const actor = actorFor(self);

    const error = await expectAppError(setUserDisabled({ actor, data: { userId: self.id, disabled: true, reason: "oops" } }), "INVALID_STATE");

    expect(error.message).toBe("You cannot disable your own account.");
    expect((await prisma.principal.findUniqueOrThrow({ where: { id: self.id } })).disabledAt).toBeNull();
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("refuses invalid input with INVALID_INPUT naming each field, and writes nothing", async () => {
    const target = await createPrincipal(prisma, { role: "viewer" });
    const actor = userActor("admin");

    const shortReason = await expectAppError(setUserDisabled({ actor, data: { userId: target.id, disabled: true, reason: " x " } }), "INVALID_INPUT");
    expect(shortReason.status).toBe(422);
    expect(shortReason.issues).toEqual([{ path: "reason", message: "Give a reason (at least 3 characters)." }]);

    const longReason = await expectAppError(
      setUserDisabled({ actor, data: { userId: target.id, disabled: true, reason: "x".repeat(501) } }),
      "INVALID_INPUT",
    );
    expect(issuePaths(longReason)).toEqual(["reason"]);

    const wrongTypes = await expectAppError(setUserDisabled({ actor, data: { userId: 42, disabled: "yes" } }), "INVALID_INPUT");
    expect(issuePaths(wrongTypes)).toEqual(["disabled", "reason", "userId"]);

    expect((await prisma.principal.findUniqueOrThrow({ where: { id: target.id } })).disabledAt).toBeNull();
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("fails closed: when the audit insert fails, the user stays enabled and keeps their sessions", async () => {
    const target = await createPrincipal(prisma, { role: "reviewer" });
    const session = await createConsoleSession(prisma, target);
    const actor = userActor("admin");
    const reason = `force-audit-failure ${randomUUID()}`;

    await withFailingAuditInserts(prisma, { reason }, async () => {
      await expect(setUserDisabled({ actor, data: { userId: target.id, disabled: true, reason } })).rejects.toThrow(FORCED_AUDIT_FAILURE);
    });

    expect((await prisma.principal.findUniqueOrThrow({ where: { id: target.id } })).disabledAt).toBeNull();
    expect(await prisma.consoleSession.findUniqueOrThrow({ where: { id: session.id } })).toMatchObject({ endedAt: null, endReason: null });
    expect(await auditEventsFor(prisma, target.id)).toEqual([]);

    // With the trigger gone the same request goes through, so it was the audit insert that refused.
    await setUserDisabled({ actor, data: { userId: target.id, disabled: true, reason } });
    expect((await prisma.principal.findUniqueOrThrow({ where: { id: target.id } })).disabledAt).not.toBeNull();
  });
});

describe("listUsers", () => {
  it("lists console users without secrets, enabled before disabled (admin)", async () => {
    const enabled = await createPrincipal(prisma, { role: "reviewer", password: "a password of some length" });
    const disabled = await createPrincipal(prisma, { role: "viewer", disabled: true });
    const service = await createPrincipal(prisma, { kind: "service", role: "viewer", email: null });

    const users = await listUsers({ actor: userActor("admin") });

    const ids = users.map((u) => u.id);
    expect(ids).toContain(enabled.id);
    expect(ids).toContain(disabled.id);
    expect(ids).not.toContain(service.id);
    expect(ids.indexOf(enabled.id)).toBeLessThan(ids.indexOf(disabled.id));
    expect(users.every((u) => u.kind === "user")).toBe(true);
    for (const user of users) expect(Object.keys(user).sort()).toEqual(["createdAt", "disabledAt", "email", "id", "kind", "lastSignInAt", "name", "role", "sso"]);
    expect(users.find((u) => u.id === enabled.id)).toMatchObject({ email: enabled.email, role: "reviewer", disabledAt: null, sso: false });
  });

  it.each(DENIED_ROLES)("refuses %s with FORBIDDEN", async (role) => {
    const error = await expectAppError(listUsers({ actor: userActor(role) }), "FORBIDDEN");
    expect(error.status).toBe(403);
  });
});
