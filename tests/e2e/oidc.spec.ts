import { expect, test, type Page } from "@playwright/test";
import { baseUrl, query } from "./support/fixtures";

async function signInWithIdp(page: Page, login: string) {
  await page.goto(`${baseUrl()}/signin`);
  await page.getByRole("button", { name: "Continue with E2E Identity" }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any-password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  // First sign-in for this client: the provider asks for consent.
  const consent = page.getByRole("button", { name: "Continue" });
  if (await consent.isVisible({ timeout: 5_000 }).catch(() => false)) await consent.click();
}

test("OpenID Connect sign-in maps the groups claim to a role", async ({ page }) => {
  await signInWithIdp(page, "sam-security");
  await expect(page).toHaveURL(`${baseUrl()}/handles`);
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link")).toHaveText(["Handles", "Queued & running", "Bulk actions", "Servers", "Reports"]);
  const [user] = await query<{ role: string; oidc_subject: string }>(`SELECT role, oidc_subject FROM principal WHERE email = $1`, ["sam-security@idp.e2e.test"]);
  expect(user).toEqual({ role: "reviewer", oidc_subject: "sam-security" });
  const [event] = await query<{ n: string }>(
    `SELECT count(*)::text AS n FROM audit_event WHERE action = 'auth.signed_in' AND payload->>'provider' = 'oidc' AND actor_id = (SELECT id::text FROM principal WHERE email = $1)`,
    ["sam-security@idp.e2e.test"],
  );
  expect(Number(event!.n)).toBe(1);
});

test("an OpenID identity with no mapped group is refused", async ({ page }) => {
  await signInWithIdp(page, "nora-nobody");
  await expect(page).toHaveURL(/\/signin\?error=NoRole/);
  await expect(page.getByRole("alert").filter({ hasText: "no Tether role" })).toBeVisible();
});
