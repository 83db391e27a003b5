import { describe, expect, it } from "vitest";
import { assertCan } from "@/lib/auth/assert-can";
import { systemActor, type TActor } from "@/lib/auth/actor";
import { NAV_ITEMS, PERMISSIONS, ROLES, navItemsFor, roleCan, type TPermission, type TRole } from "@/lib/auth/permissions";
import { AppError } from "@/lib/errors";

// The whole role × permission matrix, written out so a change to lib/auth/permissions.ts
// has to be made here too, on purpose.
const EXPECTED: Record<TRole, TPermission[]> = {
  admin: [...PERMISSIONS],
  reviewer: ["handles.read", "handles.revoke", "handles.cancel", "handles.bulk_revoke", "reports.read", "servers.read"],
  support: ["handles.read", "handles.cancel", "servers.read"],
  auditor: ["handles.read", "audit.read", "audit.export", "reports.read", "reports.generate", "servers.read", "metrics.read"],
  viewer: ["handles.read", "servers.read"],
};

function actorWith(role: TRole): TActor {
  return { type: "user", id: "u1", role, name: "t", email: null, request: { requestId: "req-test-1" } };
}

describe("role × permission matrix", () => {
  for (const role of ROLES) {
    for (const permission of PERMISSIONS) {
      const allowed = EXPECTED[role].includes(permission);
      it(`${role} ${allowed ? "may" : "may not"} ${permission}`, () => {
        expect(roleCan(role, permission)).toBe(allowed);
        if (allowed) expect(() => assertCan(actorWith(role), permission)).not.toThrow();
        else {
          const err = (() => {
            try {
              assertCan(actorWith(role), permission);
            } catch (e) {
              return e;
            }
          })();
          expect(err).toBeInstanceOf(AppError);
          expect((err as AppError).status).toBe(403);
        }
      });
    }
  }

  it("keeps the secret-reference lookup to admins", () => {
    expect(ROLES.filter((role) => EXPECTED[role].includes("audit.hash_lookup"))).toEqual(["admin"]);
  });

  it("lets the system actor do internal work", () => {
    for (const p of PERMISSIONS) expect(() => assertCan(systemActor("test", "req-test-1"), p)).not.toThrow();
  });

  it("shows each role exactly the sections it may open", () => {
    expect(navItemsFor("admin").map((i) => i.label)).toEqual(NAV_ITEMS.map((i) => i.label));
    expect(navItemsFor("reviewer").map((i) => i.label)).toEqual(["Handles", "Servers", "Reports"]);
    expect(navItemsFor("support").map((i) => i.label)).toEqual(["Handles", "Servers"]);
    expect(navItemsFor("auditor").map((i) => i.label)).toEqual(["Handles", "Servers", "Audit", "Reports"]);
    expect(navItemsFor("viewer").map((i) => i.label)).toEqual(["Handles", "Servers"]);
  });
});
