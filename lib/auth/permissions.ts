// Roles and permissions as data. Pure module: the UI may use it to hide what a role
// cannot do; every use case enforces it on the server with assertCan().

export const ROLES = ["admin", "reviewer", "support", "auditor", "viewer"] as const;
export type TRole = (typeof ROLES)[number];

export const PERMISSIONS = [
  "handles.read",
  "handles.revoke",
  "handles.cancel",
  "handles.bulk_revoke",
  "audit.read",
  "audit.export",
  // Hash a known secret value to find audit events that refer to it: admin only, because it
  // turns the audit trail into an oracle for "was this value ever used?".
  "audit.hash_lookup",
  "reports.read",
  "reports.generate",
  "servers.read",
  "servers.manage",
  "users.manage",
  "keys.manage",
  "policy.manage",
  // Prometheus metrics at /api/metrics (operational counts, no secrets, no per-handle data).
  "metrics.read",
] as const;
export type TPermission = (typeof PERMISSIONS)[number];


const MATRIX: Record<TRole, ReadonlySet<TPermission>> = {
  admin: new Set(PERMISSIONS),
  reviewer: new Set<TPermission>([
    "handles.read",
    "handles.revoke",
    "handles.cancel",
    "handles.bulk_revoke",
    "reports.read",
    "servers.read",
  ]),
  support: new Set<TPermission>(["handles.read", "handles.cancel", "servers.read"]),
  auditor: new Set<TPermission>([
    "handles.read",
    "audit.read",
    "audit.export",
    "reports.read",
    "reports.generate",
    "servers.read",
    "metrics.read",
  ]),
  viewer: new Set<TPermission>(["handles.read", "servers.read"]),
};

export function isRole(value: unknown): value is TRole {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

export function roleCan(role: TRole, permission: TPermission): boolean {
  return MATRIX[role].has(permission);
}

/** The console sections and the permission that reveals each in the navigation. */
export const NAV_ITEMS = [
  { href: "/handles", label: "Handles", permission: "handles.read" },
  { href: "/servers", label: "Servers", permission: "servers.read" },
  { href: "/audit", label: "Audit", permission: "audit.read" },
  { href: "/reports", label: "Reports", permission: "reports.read" },
  { href: "/admin", label: "Admin", permission: "users.manage" },
] as const satisfies ReadonlyArray<{ href: string; label: string; permission: TPermission }>;

export function navItemsFor(role: TRole) {
  return NAV_ITEMS.filter((item) => roleCan(role, item.permission));
}
