import { readFile } from "node:fs/promises";
import { expect, test, type Page } from "@playwright/test";
import { baseUrl, query, signIn } from "./support/fixtures";
import { e2eEmail } from "./support/users";

const SCREENSHOTS = process.env.AUDIT_SCREENSHOTS_DIR ?? "/tmp";

async function openAudit(page: Page) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" }).click();
  await expect(page).toHaveURL(`${baseUrl()}/audit`);
  await expect(page.getByRole("heading", { name: "Audit trail" })).toBeVisible();
}

async function setTheme(page: Page, theme: "light" | "dark") {
  await page.context().addCookies([{ name: "tether-theme", value: theme, url: baseUrl() }]);
  await page.reload();
  if (theme === "dark") await expect(page.locator("html")).toHaveClass(/dark/);
  else await expect(page.locator("html")).not.toHaveClass(/dark/);
}

test("an auditor filters by action, opens an event, exports, and each read is audited", async ({ page }) => {
  await signIn(page, "auditor");
  await expect(page).toHaveURL(`${baseUrl()}/handles`);
  await openAudit(page);
  await expect(page.getByTestId("audit-integrity")).toBeVisible();
  const table = page.getByRole("table", { name: "Audit events" });
  await expect(table).toBeVisible();

  // Filter: actions are checkboxes in a disclosure; applying navigates to the filtered URL.
  await page.locator("summary").filter({ hasText: /^Action/ }).click();
  await page.getByRole("checkbox", { name: "auth.signed_in" }).check();
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(`${baseUrl()}/audit?action=auth.signed_in`);
  const rows = table.locator("tbody tr");
  await expect(rows.first()).toBeVisible();
  const actions = await table.locator("tbody tr td:nth-child(4)").allTextContents();
  expect(actions.length).toBeGreaterThan(0);
  expect(new Set(actions)).toEqual(new Set(["auth.signed_in"]));
  // The form shows what the URL says, after the navigation too.
  const actionPicker = page.locator("summary").filter({ hasText: /^Action/ });
  await expect(actionPicker).toHaveText("Action · auth.signed_in");
  await actionPicker.click();
  await expect(page.getByRole("checkbox", { name: "auth.signed_in" })).toBeChecked();
  await actionPicker.click();

  await setTheme(page, "light");
  await page.screenshot({ path: `${SCREENSHOTS}/audit-list-light.png`, fullPage: true });
  await setTheme(page, "dark");
  await page.screenshot({ path: `${SCREENSHOTS}/audit-list-dark.png`, fullPage: true });

  // Open the newest sign-in: the drawer is a labelled modal dialog with the typed payload.
  const first = rows.first().getByRole("link", { name: /^Open event \d+ \(auth\.signed_in\)$/ });
  const seq = (await first.textContent())!.trim();
  await first.click();
  await expect(page).toHaveURL(new RegExp(`/audit\\?action=auth\\.signed_in&event=[0-9a-f-]{36}$`));
  const dialog = page.getByRole("dialog", { name: `Event #${seq}` });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Payload as JSON")).toContainText('"provider": "credentials"');
  await expect(dialog.getByText("matches the auth.signed_in schema")).toBeVisible();
  await expect(dialog.getByText(/Not yet sealed|Position/).first()).toBeVisible();
  const eventId = new URL(page.url()).searchParams.get("event")!;
  await expect(dialog).toContainText(eventId);

  await page.screenshot({ path: `${SCREENSHOTS}/audit-drawer-dark.png` });
  await setTheme(page, "light");
  await expect(page.getByRole("dialog", { name: `Event #${seq}` })).toBeVisible();
  await page.screenshot({ path: `${SCREENSHOTS}/audit-drawer-light.png` });

  // Escape closes it and returns to the list URL; so does the close button.
  await page.keyboard.press("Escape");
  await expect(page).toHaveURL(`${baseUrl()}/audit?action=auth.signed_in`);
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await first.click();
  await page.getByRole("dialog").getByRole("link", { name: "Close event details" }).click();
  await expect(page).toHaveURL(`${baseUrl()}/audit?action=auth.signed_in`);
  await expect(page.getByRole("dialog")).toHaveCount(0);

  // Exports: both formats download through the buttons.
  const ndjson = page.waitForEvent("download");
  await page.getByRole("link", { name: "Export NDJSON" }).click();
  const ndjsonFile = await (await ndjson).path();
  const lines = (await readFile(ndjsonFile, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines.length).toBeGreaterThan(0);
  expect((await ndjson).suggestedFilename()).toMatch(/\.ndjson$/);

  const csv = page.waitForEvent("download");
  await page.getByRole("link", { name: "Export CSV" }).click();
  expect((await csv).suggestedFilename()).toMatch(/\.csv$/);
  const csvText = await readFile(await (await csv).path(), "utf8");
  expect(csvText.split("\n")[0]).toMatch(/seq|action/);

  // Every read above is in the audit trail, attributed to the auditor.
  const reads = await query<{ action: string; n: string }>(
    `SELECT e.action, count(*)::text AS n FROM audit_event e JOIN principal p ON p.id::text = e.actor_id
      WHERE p.email = $1 AND e.action LIKE 'audit.%' GROUP BY e.action`,
    [e2eEmail("auditor")],
  );
  const counts = Object.fromEntries(reads.map((r) => [r.action, Number(r.n)]));
  expect(counts["audit.searched"]).toBeGreaterThanOrEqual(4);
  expect(counts["audit.viewed"]).toBeGreaterThanOrEqual(2);
  expect(counts["audit.exported"]).toBe(2);
  const [viewed] = await query<{ target_id: string }>(`SELECT target_id FROM audit_event WHERE action = 'audit.viewed' ORDER BY seq DESC LIMIT 1`);
  expect(viewed!.target_id).toBe(eventId);
});

test("filters from the address: a target link, an invalid filter, an empty result, and paging", async ({ page }) => {
  await signIn(page, "auditor");
  await expect(page).toHaveURL(`${baseUrl()}/handles`);
  const [auditor] = await query<{ id: string }>(`SELECT id FROM principal WHERE email = $1`, [e2eEmail("auditor")]);

  // What a handle (or user) page links to: its events.
  await page.goto(`${baseUrl()}/audit?targetType=principal&targetId=${auditor!.id}`);
  const table = page.getByRole("table", { name: "Audit events" });
  await expect(table.locator("tbody tr").first()).toBeVisible();
  for (const target of await table.locator("tbody tr td:nth-child(5)").allTextContents()) expect(target).toContain(auditor!.id);
  await expect(page.getByLabel("Target id")).toHaveValue(auditor!.id);

  // A malformed filter is explained, not a crash; the rest of the page works.
  const res = await page.goto(`${baseUrl()}/audit?from=yesterday&cursor=%%%`);
  expect(res?.status()).toBe(200);
  const problem = page.getByRole("alert").filter({ hasText: "Some filters in the address are not valid" });
  await expect(problem).toContainText("From: Use an ISO 8601 date and time");
  await expect(problem).toContainText("Page: This cursor is not one Tether issued");
  await page.screenshot({ path: `${SCREENSHOTS}/audit-invalid-filter-light.png` });

  // Nothing matches: a designed empty state with a way back.
  await page.goto(`${baseUrl()}/audit?targetType=no-such-type`);
  await expect(page.getByText("No events match these filters")).toBeVisible();
  await page.screenshot({ path: `${SCREENSHOTS}/audit-empty-light.png` });
  await page.getByRole("link", { name: "Reset all filters" }).click();
  await expect(page).toHaveURL(`${baseUrl()}/audit`);

  // Pages of two: Older, then Newer returns to exactly the first page, Newest resets.
  await page.goto(`${baseUrl()}/audit?limit=2`);
  const firstPage = await table.locator("tbody tr td:nth-child(1)").allTextContents();
  await page.getByRole("link", { name: "Older →" }).click();
  await expect(page).toHaveURL(/cursor=/);
  const secondPage = await table.locator("tbody tr td:nth-child(1)").allTextContents();
  expect(Number(secondPage[0])).toBeLessThan(Number(firstPage.at(-1)));
  await page.getByRole("link", { name: "Older →" }).click();
  await expect(page).toHaveURL(/prev=/);
  await page.getByRole("link", { name: "← Newer" }).click();
  await expect(table.locator("tbody tr td:nth-child(1)")).toHaveText(secondPage);
  await page.getByRole("link", { name: "Newest" }).click();
  await expect(page).toHaveURL(`${baseUrl()}/audit?limit=2`);
});

test("an admin finds the events that refer to an email address, by its keyed hash", async ({ page }) => {
  // A failed sign-in stores the address tried only as a keyed hash.
  await signIn(page, "support", "not-the-password");
  await expect(page.getByRole("alert").filter({ hasText: "Invalid email or password." })).toBeVisible();

  await signIn(page, "admin");
  await expect(page).toHaveURL(`${baseUrl()}/handles`);
  await openAudit(page);
  await page.locator("summary").filter({ hasText: "Find events that refer to a secret value" }).click();
  await page.getByLabel("Kind").selectOption("email");
  await page.getByLabel("Value", { exact: true }).fill(e2eEmail("support").toUpperCase());
  await page.locator("summary").filter({ hasText: /^Action/ }).click();
  await page.screenshot({ path: `${SCREENSHOTS}/audit-admin-lookup-light.png`, fullPage: true });
  await page.getByRole("button", { name: "Find events" }).click();
  await expect(page).toHaveURL(/\/audit\?refHash=[A-Za-z0-9_-]{43}$/);
  const actions = await page.getByRole("table", { name: "Audit events" }).locator("tbody tr td:nth-child(4)").allTextContents();
  expect(actions).toContain("auth.sign_in_failed");
  // The address went only into the POST body: not into the URL, the page or the audit trail.
  expect(page.url().toLowerCase()).not.toContain("support");
  const [lookup] = await query<{ payload: unknown }>(`SELECT payload FROM audit_event WHERE action = 'audit.reference_hashed' ORDER BY seq DESC LIMIT 1`);
  expect(lookup!.payload).toEqual({ kind: "email" });
  const leaks = await query<{ n: string }>(`SELECT count(*)::text AS n FROM audit_event WHERE payload::text ILIKE $1`, [`%${e2eEmail("support")}%`]);
  expect(leaks[0]!.n).toBe("0");
});

test("an auditor does not get the secret-value lookup; a viewer gets 403 on the Audit page", async ({ page }) => {
  await signIn(page, "auditor");
  await expect(page).toHaveURL(`${baseUrl()}/handles`);
  await openAudit(page);
  await expect(page.getByText("Find events that refer to a secret value")).toHaveCount(0);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);

  await signIn(page, "viewer");
  await expect(page).toHaveURL(`${baseUrl()}/handles`);
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" })).toHaveCount(0);
  const res = await page.goto(`${baseUrl()}/audit?event=00000000-0000-0000-0000-000000000000`);
  expect(res?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "You don't have access to this page" })).toBeVisible();
  const viewerReads = await query<{ n: string }>(
    `SELECT count(*)::text AS n FROM audit_event e JOIN principal p ON p.id::text = e.actor_id WHERE p.email = $1 AND e.action LIKE 'audit.%'`,
    [e2eEmail("viewer")],
  );
  expect(viewerReads[0]!.n).toBe("0");
});
