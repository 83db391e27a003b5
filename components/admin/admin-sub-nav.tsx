import Link from "next/link";
import { clsx } from "clsx";
import { roleCan, type TPermission, type TRole } from "@/lib/auth/permissions";

const ITEMS = [
  { href: "/admin", label: "Users", permission: "users.manage" },
  { href: "/admin/agents", label: "Agents & API keys", permission: "keys.manage" },
  { href: "/admin/policy", label: "Policy", permission: "policy.manage" },
  { href: "/admin/servers", label: "Servers", permission: "servers.manage" },
] as const satisfies ReadonlyArray<{ href: string; label: string; permission: TPermission }>;

/** Tabs between the admin pages; a page passes its own path, so this stays a server component. */
export function AdminSubNav({ current, role }: { current: (typeof ITEMS)[number]["href"]; role: TRole }) {
  return (
    <nav aria-label="Admin" className="mb-5 border-b border-border">
      <ul className="-mb-px flex flex-wrap gap-1">
        {ITEMS.filter((item) => roleCan(role, item.permission)).map((item) => {
          const active = item.href === current;
          return (
            <li key={item.href}>
              <Link
                href={item.href}
                aria-current={active ? "page" : undefined}
                className={clsx(
                  "inline-block border-b-2 px-3 py-2 text-sm font-medium",
                  active ? "border-accent text-fg" : "border-transparent text-fg-muted hover:border-border hover:text-fg",
                )}
              >
                {item.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
