// "At least one active administrator remains" is a fact about the whole principal table, so this
// file runs on a database of its own: only the administrators its tests make exist there. Each
// test starts with none active and retires the ones it made (plain UPDATEs, no use case) after.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { getPrisma } from "@/lib/db/client";
import { isAppError } from "@/lib/errors";
import { changeUserRole } from "@/lib/users/change-user-role";
import { setUserDisabled } from "@/lib/users/set-user-disabled";
import { actorFor, createPrincipal, userActor } from "../factories/principals";
import { auditEventsFor, auditEventsOfRequest } from "./support/audit";
import { expectAppError } from "./support/errors";
import { setUpOwnDatabase } from "./support/own-database";

setUpOwnDatabase();

const made: string[] = [];

async function createAdmin(options: { disabled?: boolean } = {}) {
  const admin = await createPrincipal(getPrisma(), { role: "admin", ...options });
  made.push(admin.id);
  return admin;
}

function activeAdmins() {
  return getPrisma().principal.count({ where: { kind: "user", role: "admin", disabledAt: null } });
}

beforeEach(async () => {
  expect(await activeAdmins(), "a previous test left an active administrator behind").toBe(0);
});

afterEach(async () => {
  await getPrisma().principal.updateMany({ where: { id: { in: made.splice(0) }, disabledAt: null }, data: { disabledAt: new Date() } });
});

describe("the last active administrator", () => {
  it("cannot be demoted (INVALID_STATE), even while disabled administrators exist", async () => {
    const last = await createAdmin();
    await createAdmin({ disabled: true });
    const actor = userActor("admin");

    const error = await expectAppError(changeUserRole({ actor, data: { userId: last.id, role: "viewer" } }), "INVALID_STATE");

    expect(error.status).toBe(409);
    expect(error.message).toMatch(/last active administrator/);
    expect((await getPrisma().principal.findUniqueOrThrow({ where: { id: last.id } })).role).toBe("admin");
    expect(await auditEventsOfRequest(getPrisma(), actor.request.requestId)).toEqual([]);
  });

  it("cannot be disabled (INVALID_STATE)", async () => {
    const last = await createAdmin();
    const actor = userActor("admin");

    const error = await expectAppError(setUserDisabled({ actor, data: { userId: last.id, disabled: true, reason: "lock us out" } }), "INVALID_STATE");

    expect(error.message).toMatch(/last active administrator/);
    expect((await getPrisma().principal.findUniqueOrThrow({ where: { id: last.id } })).disabledAt).toBeNull();
    expect(await auditEventsOfRequest(getPrisma(), actor.request.requestId)).toEqual([]);
  });

  it("can be demoted once a second administrator exists, which then becomes the last one", async () => {
    const first = await createAdmin();
    const second = await createAdmin();

    await changeUserRole({ actor: actorFor(second), data: { userId: first.id, role: "reviewer" } });

    expect(await activeAdmins()).toBe(1);
    expect(await auditEventsFor(getPrisma(), first.id, "user.role_changed")).toMatchObject([
      { actorId: second.id, actorRole: "admin", payload: { from: "admin", to: "reviewer" } },
    ]);
    await expectAppError(changeUserRole({ actor: userActor("admin"), data: { userId: second.id, role: "reviewer" } }), "INVALID_STATE");
    await expectAppError(
      setUserDisabled({ actor: userActor("admin"), data: { userId: second.id, disabled: true, reason: "lock us out" } }),
      "INVALID_STATE",
    );
    expect(await activeAdmins()).toBe(1);
  });

  it("does not stop changes to administrators who are already disabled", async () => {
    await createAdmin();
    const dormant = await createAdmin({ disabled: true });

    await changeUserRole({ actor: userActor("admin"), data: { userId: dormant.id, role: "viewer" } });

    expect((await getPrisma().principal.findUniqueOrThrow({ where: { id: dormant.id } })).role).toBe("viewer");
    expect(await activeAdmins()).toBe(1);
  });
});

describe("administrators acting on each other at the same moment", () => {
  type TRemoval = "demote" | "disable";

  function remove(kind: TRemoval, by: Awaited<ReturnType<typeof createAdmin>>, target: { id: string }) {
    const actor = actorFor(by);
    return kind === "demote"
      ? changeUserRole({ actor, data: { userId: target.id, role: "reviewer" } })
      : setUserDisabled({ actor, data: { userId: target.id, disabled: true, reason: "concurrent removal" } });
  }

  // Without the advisory lock both transactions count two administrators and both commit.
  it.each<[TRemoval, TRemoval]>([
    ["demote", "demote"],
    ["disable", "disable"],
    ["demote", "disable"],
  ])("leaves one administrator when the only two %s / %s each other", async (firstKind, secondKind) => {
    for (let round = 0; round < 3; round++) {
      const a = await createAdmin();
      const b = await createAdmin();

      const results = await Promise.allSettled([remove(firstKind, a, b), remove(secondKind, b, a)]);

      const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
      expect(failures).toHaveLength(1);
      expect(isAppError(failures[0]) && failures[0].code).toBe("INVALID_STATE");
      expect(await activeAdmins()).toBe(1);
      const audited = [
        ...(await auditEventsFor(getPrisma(), a.id)),
        ...(await auditEventsFor(getPrisma(), b.id)),
      ].filter((e) => e.action === "user.role_changed" || e.action === "user.disabled");
      expect(audited).toHaveLength(1);

      await getPrisma().principal.updateMany({ where: { id: { in: [a.id, b.id] }, disabledAt: null }, data: { disabledAt: new Date() } });
    }
  });
});
