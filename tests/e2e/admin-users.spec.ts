import { expect, test } from "@playwright/test";
import { baseUrl, query, signIn } from "./support/fixtures";

test("an admin creates a user, changes the role, disables them — each audited", async ({ page }) => {
  const email = `new-${Date.now()}@e2e.tether.test`;
  await signIn(page, "admin");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).click();
  await expect(page).toHaveURL(`${baseUrl()}/admin`);

  // Bad input first: field errors, nothing written.
  await page.getByLabel("Email").fill("broken");
  await page.getByLabel("Name").fill("New Person");
  await page.getByLabel("Initial password").fill("short");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByText("Enter a valid email address.")).toBeVisible();
  await expect(page.getByText("Use at least 12 characters.")).toBeVisible();

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Initial password").fill("a-long-enough-password");
  await page.getByLabel("Role", { exact: true }).selectOption("support");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByText("User created.")).toBeVisible();
  const row = page.getByRole("row").filter({ hasText: email });
  await expect(row).toContainText("support");

  await row.getByLabel(`Role for ${email}`, { exact: true }).selectOption("reviewer");
  await row.getByRole("button", { name: `Save role for ${email}` }).click();
  await expect(page.getByRole("row").filter({ hasText: email }).getByRole("cell").nth(1)).toHaveText("reviewer");

  await page.getByRole("row").filter({ hasText: email }).getByRole("button", { name: `Disable ${email}` }).click();
  await page.getByRole("row").filter({ hasText: email }).getByPlaceholder(/Reason/).fill("left the team");
  await page.getByRole("row").filter({ hasText: email }).getByRole("button", { name: "Confirm disable" }).click();
  await expect(page.getByRole("row").filter({ hasText: email })).toContainText("disabled");

  const [user] = await query<{ id: string; role: string; disabled_at: Date | null }>(`SELECT id, role, disabled_at FROM principal WHERE email = $1`, [email]);
  expect(user?.role).toBe("reviewer");
  expect(user?.disabled_at).not.toBeNull();
  const events = await query<{ action: string; reason: string | null }>(`SELECT action, reason FROM audit_event WHERE target_id = $1 ORDER BY seq`, [user!.id]);
  expect(events.map((e) => e.action)).toEqual(["user.created", "user.role_changed", "user.disabled"]);
  expect(events[2]!.reason).toBe("left the team");
});

test("a non-admin gets 403 from the admin page", async ({ page }) => {
  await signIn(page, "reviewer");
  await expect(page).toHaveURL(`${baseUrl()}/handles`);
  const res = await page.goto(`${baseUrl()}/admin`);
  expect(res?.status()).toBe(403);
});
