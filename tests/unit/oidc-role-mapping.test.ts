import { describe, expect, it } from "vitest";
import { mapOidcRole, parseRoleMap, readClaim } from "@/lib/auth/map-oidc-role";

describe("mapOidcRole", () => {
  it("maps a claim value that is a role name", () => {
    expect(mapOidcRole("auditor", "", "")).toBe("auditor");
  });
  it("maps groups through OIDC_ROLE_MAP and picks the most privileged", () => {
    expect(mapOidcRole(["staff", "sec-team", "ops"], "sec-team=reviewer,ops=support", "")).toBe("reviewer");
    expect(mapOidcRole(["ops", "tether-admins"], "ops=support,tether-admins=admin", "")).toBe("admin");
  });
  it("falls back to the default role, or refuses with none", () => {
    expect(mapOidcRole(["staff"], "sec=reviewer", "viewer")).toBe("viewer");
    expect(mapOidcRole(["staff"], "sec=reviewer", "")).toBeNull();
    expect(mapOidcRole(undefined, "", "")).toBeNull();
    expect(mapOidcRole(42, "", "")).toBeNull();
  });
  it("rejects a malformed role map with a message naming the entry", () => {
    expect(() => parseRoleMap("sec=superuser")).toThrow(/sec=superuser/);
    expect(() => parseRoleMap("=admin")).toThrow(/=admin/);
  });
  it("reads nested claims", () => {
    expect(readClaim({ realm_access: { roles: ["admin"] } }, "realm_access.roles")).toEqual(["admin"]);
    expect(readClaim({ a: 1 }, "a.b")).toBeUndefined();
  });
});
