import { ROLES, isRole, type TRole } from "./permissions";

/**
 * Maps the configured claim of an OIDC identity to a Tether role. The claim may be a
 * string or an array (groups). A value equal to a role name maps to it; `OIDC_ROLE_MAP`
 * (`group=role,...`) maps other values. When several values map, the most privileged
 * role wins (ROLES is ordered from most to least privileged); nothing mapped gives the
 * default role, or null to refuse the sign-in.
 */
export function mapOidcRole(claim: unknown, roleMap: string, defaultRole: TRole | ""): TRole | null {
  const mapping = parseRoleMap(roleMap);
  const values = (Array.isArray(claim) ? claim : [claim]).filter((v): v is string => typeof v === "string");
  const matched = new Set<TRole>();
  for (const value of values) {
    const mapped = mapping.get(value) ?? (isRole(value) ? value : undefined);
    if (mapped) matched.add(mapped);
  }
  const best = ROLES.find((r) => matched.has(r));
  return best ?? (defaultRole === "" ? null : defaultRole);
}

export function parseRoleMap(roleMap: string): Map<string, TRole> {
  const mapping = new Map<string, TRole>();
  for (const pair of roleMap.split(",").map((p) => p.trim()).filter(Boolean)) {
    const eq = pair.lastIndexOf("=");
    const group = pair.slice(0, eq).trim();
    const role = pair.slice(eq + 1).trim();
    if (eq <= 0 || !isRole(role)) throw new Error(`OIDC_ROLE_MAP entry "${pair}" must look like group=role with role one of ${ROLES.join(", ")}.`);
    mapping.set(group, role);
  }
  return mapping;
}

/** Reads a claim by name; dotted names reach into nested objects (e.g. `realm_access.roles`). */
export function readClaim(claims: Record<string, unknown>, name: string): unknown {
  let value: unknown = claims;
  for (const part of name.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
