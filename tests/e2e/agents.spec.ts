import { expect, test, type Page } from "@playwright/test";
import { baseUrl, query, signIn } from "./support/fixtures";

const KEY_PATTERN = /^tth_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/;

function apiKeys(key: string, init: { method?: string; body?: unknown } = {}) {
  return fetch(`${baseUrl()}/api/v1/api-keys`, {
    method: init.method ?? "GET",
    headers: { Authorization: `Bearer ${key}`, ...(init.body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

async function signInAsAdmin(page: Page) {
  await signIn(page, "admin");
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
}

async function createAccount(page: Page, name: string, role: string) {
  const form = page.getByRole("form", { name: "Add a service account" });
  await form.getByLabel("Name", { exact: true }).fill(name);
  await form.getByLabel("Role", { exact: true }).selectOption(role);
  await form.getByRole("button", { name: "Add service account" }).click();
  await expect(page.getByRole("region", { name, exact: true })).toBeVisible();
}

/** Creates a key in the account's card and reads it from the one-time box. */
async function createKey(page: Page, account: string, keyName: string): Promise<string> {
  const card = page.getByRole("region", { name: account, exact: true });
  await card.getByLabel("New key name").fill(keyName);
  await card.getByRole("button", { name: "Create key" }).click();
  const reveal = card.getByTestId("new-api-key");
  await expect(reveal).toContainText("It will not be shown again.");
  const key = await reveal.getByLabel("New API key").inputValue();
  expect(key).toMatch(KEY_PATTERN);
  return key;
}

test("an admin creates an agent and a key, sees the key once, revokes it; the key then gets 401", async ({ page }) => {
  const account = `e2e-agent-${Date.now()}`;
  await signInAsAdmin(page);
  await page.goto(`${baseUrl()}/admin`);
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Agents & API keys" }).click();
  await expect(page).toHaveURL(`${baseUrl()}/admin/agents`);
  await expect(page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Agents & API keys" })).toHaveAttribute("aria-current", "page");

  // Bad input first: the field error, nothing written.
  await page.getByRole("form", { name: "Add a service account" }).getByRole("button", { name: "Add service account" }).click();
  await expect(page.getByText("Enter a name.")).toBeVisible();

  await createAccount(page, account, "admin");
  const key = await createKey(page, account, "deploy bot");
  const prefix = key.slice(0, 12);
  expect(page.url()).not.toContain(key);

  // The key works while it is live (this agent is an admin, so it may list keys).
  const live = await apiKeys(key);
  expect(live.status).toBe(200);
  expect(await live.text()).toContain(prefix);

  // Gone after a reload: only the prefix remains, anywhere on the page.
  await page.reload();
  const card = page.getByRole("region", { name: account, exact: true });
  await expect(card.getByRole("row").filter({ hasText: "deploy bot" })).toContainText(prefix);
  await expect(page.getByTestId("new-api-key")).toHaveCount(0);
  expect(await page.content()).not.toContain(key.slice(13));

  // Revoke, with the confirmation step and a mandatory reason.
  const row = card.getByRole("row").filter({ hasText: "deploy bot" });
  await row.getByRole("button", { name: `Revoke key deploy bot (${prefix})` }).click();
  await row.getByRole("button", { name: "Confirm revoke" }).click();
  await expect(row.getByRole("alert")).toHaveText("Give a reason (at least 3 characters).");
  await row.getByPlaceholder(/Reason/).fill("rotated after e2e");
  await row.getByRole("button", { name: "Confirm revoke" }).click();
  await expect(card.getByRole("row").filter({ hasText: "deploy bot" }).getByRole("cell").nth(1)).toContainText(/^revoked\d{4}-/);
  await expect(card.getByRole("button", { name: `Revoke key deploy bot (${prefix})` })).toHaveCount(0);

  const revoked = await apiKeys(key);
  expect(revoked.status).toBe(401);
  expect(await revoked.json()).toEqual({ error: { code: "UNAUTHENTICATED", message: "Invalid or expired API key." } });

  const [stored] = await query<{ id: string; revoked_at: Date | null; hash: string; prefix: string }>(`SELECT id, revoked_at, hash, prefix FROM api_key WHERE prefix = $1`, [prefix]);
  expect(stored?.revoked_at).not.toBeNull();
  expect(stored?.hash).not.toContain(key.slice(13));
  const events = await query<{ action: string; reason: string | null; payload: unknown }>(`SELECT action, reason, payload FROM audit_event WHERE target_id = $1 ORDER BY seq`, [stored!.id]);
  expect(events.map((e) => e.action)).toEqual(["api_key.created", "api_key.revoked"]);
  expect(events[1]!.reason).toBe("rotated after e2e");
  expect(JSON.stringify(events)).not.toContain(key.slice(13));
});

test("a viewer agent's valid key is refused with 403 when it tries to create a key", async ({ page }) => {
  const account = `e2e-viewer-agent-${Date.now()}`;
  await signInAsAdmin(page);
  await page.goto(`${baseUrl()}/admin/agents`);
  await createAccount(page, account, "viewer");
  const key = await createKey(page, account, "read only");
  const [principal] = await query<{ id: string }>(`SELECT id FROM principal WHERE name = $1 AND kind = 'service'`, [account]);

  const res = await apiKeys(key, { method: "POST", body: { principalId: principal!.id, name: "escalation" } });

  expect(res.status).toBe(403);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe("FORBIDDEN");
  const keys = await query<{ name: string }>(`SELECT name FROM api_key WHERE principal_id = $1`, [principal!.id]);
  expect(keys.map((k) => k.name)).toEqual(["read only"]);
});

test("a non-admin gets 403 from the agents page", async ({ page }) => {
  await signIn(page, "reviewer");
  await expect(page).toHaveURL(`${baseUrl()}/handles`);
  const res = await page.goto(`${baseUrl()}/admin/agents`);
  expect(res?.status()).toBe(403);
});
