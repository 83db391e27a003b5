import { randomBytes, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { baseUrl, query, signIn } from "./support/fixtures";
import { e2eEmail } from "./support/users";

const SCREENSHOTS = process.env.INVENTORY_SCREENSHOTS_DIR ?? "/tmp";

/** An agent principal of its own (no sign-in: it owns handles). */
async function insertAgent(name: string) {
  const [row] = await query<{ id: string }>(`INSERT INTO principal (id, kind, role, name, updated_at) VALUES (gen_random_uuid(), 'service', 'viewer', $1, now()) RETURNING id`, [name]);
  return { id: row!.id, name };
}

/** A live handle of `ownerId` on `serverId`, created `ageMin` minutes ago. */
async function insertHandle(serverId: string, ownerId: string, ageMin: number, status = "working") {
  const accessor = `hdl_${randomBytes(12).toString("hex")}`;
  await query(
    `INSERT INTO handle (id, accessor, token_hash, token_enc, upstream_task_id_enc, upstream_task_id_hash, wire, server_id, principal_id, audience, tool_name, policy_version,
                         effective_ttl_ms, status, created_at, expires_at)
     VALUES (gen_random_uuid(), $1, $2, 'enc:e2e', 'enc:e2e', $2, 'core_2025_11_25', $3, $4, 'https://e2e.tether.test/mcp', 'long_task', 1,
             3600000, $5::"TaskStatus", now() - $6::int * interval '1 minute', now() - $6::int * interval '1 minute' + interval '1 hour')`,
    [accessor, randomBytes(32).toString("hex"), serverId, ownerId, status, ageMin],
  );
  return accessor;
}

test("a reviewer filters the inventory by owner, sees only that owner's handles, saves the view and exports it", async ({ page }) => {
  const slug = `e2e-inv-${randomUUID().slice(0, 8)}`;
  const [server] = await query<{ id: string }>(
    `INSERT INTO mcp_server (id, slug, name, url, audience, updated_at) VALUES (gen_random_uuid(), $1, $1, 'http://127.0.0.1:9/mcp', 'https://e2e.tether.test/mcp', now()) RETURNING id`,
    [slug],
  );
  const alice = await insertAgent(`inventory-alice-${slug}`);
  const bob = await insertAgent(`inventory-bob-${slug}`);
  const alices = [await insertHandle(server!.id, alice.id, 30), await insertHandle(server!.id, alice.id, 20, "input_required"), await insertHandle(server!.id, alice.id, 10)];
  const bobs = [await insertHandle(server!.id, bob.id, 25), await insertHandle(server!.id, bob.id, 5, "completed")];

  await signIn(page, "reviewer");
  await expect(page).toHaveURL(`${baseUrl()}/handles`);
  await expect(page.getByRole("heading", { name: "Handles" })).toBeVisible();
  await expect(page.getByRole("table", { name: "Handles" })).toBeVisible();

  // Narrow to this test's server (the run's database holds other specs' handles too).
  await page.goto(`${baseUrl()}/handles?server=${slug}`);
  const rows = page.getByTestId("handle-row");
  await expect(rows).toHaveCount(5);
  // While the page streams, the loading toolbar ("Counting…") and the final one can both be there.
  await expect(page.getByTestId("handle-total").filter({ hasText: "5 handles match" })).toBeVisible();

  // The owner facet lists both owners with their counts; choose Alice and apply.
  const filters = page.getByRole("search", { name: "Filter handles" });
  await filters.locator("summary").filter({ hasText: /^Owner/ }).click();
  const aliceBox = filters.getByRole("checkbox", { name: new RegExp(alice.name) });
  await expect(aliceBox.locator("xpath=..")).toContainText("3");
  await expect(filters.getByRole("checkbox", { name: new RegExp(bob.name) }).locator("xpath=..")).toContainText("2");
  await aliceBox.check();
  await filters.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(new RegExp(`/handles\\?server=${slug}&owner=${alice.id}$`));

  await expect(rows).toHaveCount(3);
  expect(new Set(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-accessor"))))).toEqual(new Set(alices));
  await expect(page.getByTestId("handle-total").filter({ hasText: "3 handles match" })).toBeVisible();
  await expect(page.getByRole("table", { name: "Handles" })).not.toContainText(bob.name);
  // Newest first; each accessor links to its handle page.
  await expect(rows.first().getByRole("link", { name: alices[2]! })).toHaveAttribute("href", `/handles/${alices[2]}`);
  await page.screenshot({ path: `${SCREENSHOTS}/inventory-owner.png`, fullPage: true });

  // Saved views: save this filter; it is listed and opens the same URL.
  await page.locator("summary").filter({ hasText: "Saved views" }).click();
  await page.getByLabel("Save the current filter as").fill(`Alice on ${slug}`);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: `View “Alice on ${slug}” saved.` })).toBeVisible();
  await expect(page.getByRole("list", { name: "Your saved views" }).getByRole("link", { name: `Alice on ${slug}` })).toHaveAttribute(
    "href",
    `/handles?server=${slug}&owner=${alice.id}`,
  );

  // Export the current filter: a CSV of exactly Alice's handles, audited.
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "Export CSV" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^tether-handles-.*\.csv$/);
  const csv = await readFile((await file.path())!, "utf8");
  const exported = csv.trim().split("\n").slice(1).map((line) => line.split(",")[0]);
  expect(exported).toEqual([alices[2], alices[1], alices[0]]);
  for (const b of bobs) expect(csv).not.toContain(b);

  const [reviewer] = await query<{ id: string }>(`SELECT id FROM principal WHERE email = $1`, [e2eEmail("reviewer")]);
  await expect
    .poll(async () => (await query<{ payload: { rowCount: number; filter: Record<string, unknown> } }>(`SELECT payload FROM audit_event WHERE action = 'handles.exported' AND actor_id = $1 ORDER BY seq DESC LIMIT 1`, [reviewer!.id]))[0]?.payload)
    .toMatchObject({ rowCount: 3, filter: { server: [slug], owner: [alice.id] } });

  // A filter that matches nothing is a designed empty state with a way back.
  await page.goto(`${baseUrl()}/handles?server=${slug}&owner=${alice.id}&status=failed`);
  await expect(page.getByText("No handles match this filter")).toBeVisible();
  await page.getByRole("link", { name: "Clear filters" }).last().click();
  await expect(page).toHaveURL(`${baseUrl()}/handles`);

  // Back to Alice's handles: open the newest from the filtered list and revoke it with a reason.
  await page.goto(`${baseUrl()}/handles?server=${slug}&owner=${alice.id}`);
  const target = alices[2]!;
  await rows.first().getByRole("link", { name: target }).click();
  await expect(page).toHaveURL(`${baseUrl()}/handles/${target}`);
  await page.getByRole("button", { name: `Revoke handle ${target}` }).click();
  const form = page.getByRole("form", { name: `Revoke handle ${target}` });
  await form.getByLabel("Reason (recorded in the audit trail)").fill("Owner left the project");
  await form.getByRole("button", { name: "Confirm revoke" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Revoked: the gateway refuses this handle from its next call." })).toBeVisible();
  const [revoked] = await query<{ revoke_reason: string; revoked_by: string }>(`SELECT revoke_reason, revoked_by_id::text AS revoked_by FROM handle WHERE accessor = $1`, [target]);
  expect(revoked).toEqual({ revoke_reason: "Owner left the project", revoked_by: reviewer!.id });
  const others = await query<{ n: string }>(`SELECT count(*)::text AS n FROM handle WHERE accessor = ANY($1) AND revoked_at IS NOT NULL`, [[...alices.slice(0, 2), ...bobs]]);
  expect(others[0]!.n).toBe("0");
});
