import { expect, test } from "@playwright/test";
import type { TRole } from "@/lib/auth/permissions";
import { baseUrl, query, signIn, signOut } from "./support/fixtures";
import { e2eEmail } from "./support/users";

const NAV: Record<TRole, string[]> = {
  admin: ["Handles", "Queued & running", "Bulk actions", "Servers", "Audit", "Reports", "Admin"],
  reviewer: ["Handles", "Queued & running", "Bulk actions", "Servers", "Reports"],
  support: ["Handles", "Queued & running", "Servers"],
  auditor: ["Handles", "Servers", "Audit", "Reports"],
  viewer: ["Handles", "Servers"],
};
// A page each role may not open (admin may open all).
const FORBIDDEN: Partial<Record<TRole, string>> = { reviewer: "/audit", support: "/reports", auditor: "/admin", viewer: "/audit" };

for (const role of Object.keys(NAV) as TRole[]) {
  test(`${role} signs in, sees the right navigation, is refused a page, and signs out`, async ({ page }) => {
    await signIn(page, role);
    await expect(page).toHaveURL(`${baseUrl()}/handles`);
    const nav = page.getByRole("navigation", { name: "Main" });
    await expect(nav.getByRole("link")).toHaveText(NAV[role]);
    await expect(page.getByTestId("current-user")).toContainText(role);

    const forbidden = FORBIDDEN[role];
    if (forbidden) {
      const res = await page.goto(`${baseUrl()}${forbidden}`);
      expect(res?.status()).toBe(403);
      await expect(page.getByRole("heading", { name: "You don't have access to this page" })).toBeVisible();
      await expect(page.getByTestId("request-id")).not.toBeEmpty();
      await page.goto(`${baseUrl()}/handles`);
    }

    await signOut(page);
    // The session row is ended on the server: the old cookie no longer opens the console.
    const [session] = await query<{ ended_at: Date | null; end_reason: string | null }>(
      `SELECT s.ended_at, s.end_reason FROM console_session s JOIN principal p ON p.id = s.principal_id WHERE p.email = $1 ORDER BY s.created_at DESC LIMIT 1`,
      [e2eEmail(role)],
    );
    expect(session?.ended_at).not.toBeNull();
    expect(session?.end_reason).toBe("signed_out");
    await page.goto(`${baseUrl()}/handles`);
    await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Fhandles/);
  });
}

test("a wrong password gets one generic message and is audited", async ({ page }) => {
  await signIn(page, "viewer", "not-the-password");
  await expect(page.getByRole("alert").filter({ hasText: "Invalid email or password." })).toHaveText("Invalid email or password.");
  await expect(page).toHaveURL(/\/signin/);
  const rows = await query<{ n: string }>(`SELECT count(*)::text AS n FROM audit_event WHERE action = 'auth.sign_in_failed'`);
  expect(Number(rows[0]!.n)).toBeGreaterThan(0);
});

test("malformed sign-in input shows field errors without a request", async ({ page }) => {
  await page.goto(`${baseUrl()}/signin`);
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText("Enter a valid email address.")).toBeVisible();
  await expect(page.getByText("Enter your password.")).toBeVisible();
});

test("a signed-out visitor is sent to sign-in and returned afterwards", async ({ page }) => {
  await page.goto(`${baseUrl()}/servers`);
  await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Fservers/);
  await page.getByLabel("Email").fill(e2eEmail("viewer"));
  await page.getByLabel("Password").fill("e2e-correct-horse-battery");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(`${baseUrl()}/servers`);
});

test("an open redirect through callbackUrl is refused", async ({ page }) => {
  await page.goto(`${baseUrl()}/signin?callbackUrl=${encodeURIComponent("https://evil.example/")}`);
  await page.getByLabel("Email").fill(e2eEmail("viewer"));
  await page.getByLabel("Password").fill("e2e-correct-horse-battery");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(`${baseUrl()}/handles`);
});

test("unknown routes get the 404 page with a request id and no stack trace", async ({ page }) => {
  const res = await page.goto(`${baseUrl()}/no/such/page`);
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.getByTestId("request-id")).toHaveText(/^[A-Za-z0-9._-]{8,}$/);
  expect(await page.content()).not.toMatch(/at \w+ \(|node_modules/);
});

test("the theme switches to dark and stays after a reload", async ({ page }) => {
  await signIn(page, "viewer");
  await expect(page).toHaveURL(`${baseUrl()}/handles`);
  const toggle = page.getByRole("button", { name: /^Theme:/ });
  while (!(await toggle.getAttribute("aria-label"))?.startsWith("Theme: dark")) await toggle.click();
  await expect(page.locator("html")).toHaveClass(/dark/);
  await page.reload();
  await expect(page.locator("html")).toHaveClass(/dark/);
});
