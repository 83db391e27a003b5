import Link from "next/link";
import { cookies, headers } from "next/headers";
import { LiveIndicator } from "@/components/live/live-indicator";
import { NavLinks } from "@/components/shell/nav-links";
import { SignOutButton } from "@/components/shell/sign-out-button";
import { THEME_COOKIE, parseTheme } from "@/components/shell/theme";
import { ThemeToggle } from "@/components/shell/theme-toggle";
import { requirePageActor } from "@/lib/auth/current-actor";
import { navItemsFor, roleCan } from "@/lib/auth/permissions";
import { receivedAtFrom } from "@/lib/http/request-meta";

export default async function ConsoleLayout({ children }: { children: React.ReactNode }) {
  const actor = await requirePageActor();
  const theme = parseTheme((await cookies()).get(THEME_COOKIE)?.value);
  // The live connection asks the server whether anything changed since this page's data was read.
  const liveSince = receivedAtFrom(await headers());
  const items = navItemsFor(actor.role).flatMap(({ href, label }) =>
    // Support's focused view sits next to the inventory for every role that may cancel.
    href === "/handles" && roleCan(actor.role, "handles.cancel") ? [{ href, label }, { href: "/handles/active", label: "Queued & running" }] : [{ href, label }],
  );
  // Bulk actions (and those waiting for a second reviewer's approval) for roles that may run them.
  if (roleCan(actor.role, "handles.bulk_revoke")) items.splice(items.findIndex((i) => i.href === "/handles/active") + 1 || 1, 0, { href: "/bulk", label: "Bulk actions" });
  return (
    <div className="flex min-h-screen flex-col">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:rounded focus:bg-surface focus:px-3 focus:py-2">
        Skip to content
      </a>
      <header className="border-b border-border bg-surface" data-live-since={liveSince ?? undefined}>
        <div className="mx-auto flex max-w-content flex-wrap items-center gap-x-6 gap-y-2 px-4 py-2.5">
          <Link href="/" className="text-base font-semibold tracking-tight">
            Tether
          </Link>
          <nav aria-label="Main" className="flex-1">
            <NavLinks items={items} />
          </nav>
          <div className="flex items-center gap-2">
            <LiveIndicator />
            <span className="hidden text-sm text-fg-muted md:inline" data-testid="current-user">
              {actor.name} · <span className="font-medium text-fg">{actor.role}</span>
            </span>
            <ThemeToggle initial={theme} />
            <SignOutButton />
          </div>
        </div>
      </header>
      <main id="main" className="mx-auto w-full max-w-content flex-1 px-4 py-6">
        {children}
      </main>
    </div>
  );
}
