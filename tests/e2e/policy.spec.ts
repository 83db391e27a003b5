import { randomBytes, randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { baseUrl, query, signIn } from "./support/fixtures";
import { e2eEmail } from "./support/users";

const SCREENSHOTS = process.env.POLICY_SCREENSHOTS_DIR ?? "/tmp";

async function setTheme(page: Page, theme: "light" | "dark") {
  await page.context().addCookies([{ name: "tether-theme", value: theme, url: baseUrl() }]);
  await page.reload();
  if (theme === "dark") await expect(page.locator("html")).toHaveClass(/dark/);
  else await expect(page.locator("html")).not.toHaveClass(/dark/);
}

async function fillChange(page: Page) {
  await page.getByLabel("Maximum TTL", { exact: true }).fill("30");
  await page.getByLabel("Maximum TTL unit").selectOption("minutes");
  await page.getByLabel(/^Reason/).fill("shorter exposure window for agents");
}

/** A live handle of the e2e viewer on a server of its own, created `ageMin` minutes ago. */
async function insertHandle(serverId: string, policyVersion: number, ageMin: number, remainingMin: number) {
  const accessor = `acc_e2e_${randomBytes(8).toString("hex")}`;
  const [row] = await query<{ id: string }>(
    `INSERT INTO handle (id, accessor, token_hash, token_enc, upstream_task_id_enc, upstream_task_id_hash, wire, server_id, principal_id, audience, tool_name, policy_version,
                         effective_ttl_ms, created_at, expires_at)
     SELECT gen_random_uuid(), $1, $2, 'enc:e2e', 'enc:e2e', $2, 'core_2025_11_25', $3, p.id, 'https://e2e.tether.test/mcp', 'simulate-research-query', $4,
            ($5::int + $6::int) * 60000, now() - $5::int * interval '1 minute', now() + $6::int * interval '1 minute'
       FROM principal p WHERE p.email = $7
     RETURNING id`,
    [accessor, randomBytes(32).toString("hex"), serverId, policyVersion, ageMin, remainingMin, e2eEmail("viewer")],
  );
  return { id: row!.id, accessor };
}

test("an admin lowers the maximum TTL: field errors first, then a preview, a confirmation, and the new version in the history", async ({ page }) => {
  const [{ version } = { version: 0 }] = await query<{ version: number }>(`SELECT max(version)::int AS version FROM handle_policy`);
  const slug = `e2e-policy-${randomUUID().slice(0, 8)}`;
  const [server] = await query<{ id: string }>(
    `INSERT INTO mcp_server (id, slug, name, url, audience, updated_at) VALUES (gen_random_uuid(), $1, $1, 'http://127.0.0.1:9/mcp', 'https://e2e.tether.test/mcp', now()) RETURNING id`,
    [slug],
  );
  // Older than the new maximum (30 min): revoked. Younger, but expiring after created + 30 min: clamped.
  const overAge = await insertHandle(server!.id, version, 45, 15);
  const tooLong = await insertHandle(server!.id, version, 5, 55);

  await signIn(page, "admin");
  await expect(page).toHaveURL(`${baseUrl()}/handles`);
  await page.goto(`${baseUrl()}/admin/policy`);
  await expect(page.getByRole("heading", { name: "Handle policy" })).toBeVisible();
  await expect(page.getByRole("heading", { name: `In force: version ${version}` })).toBeVisible();
  await expect(page.getByTestId("current-policy")).toContainText("1 hour");
  await expect(page.getByLabel("Maximum TTL", { exact: true })).toHaveValue("1");
  await expect(page.getByLabel("Maximum TTL unit")).toHaveValue("hours");
  await expect(page.getByRole("button", { name: `Save as version ${version + 1}` })).toBeDisabled();

  // Bad input: a maximum below the default. The preview says why at once; saving names the fields.
  await page.getByLabel("Maximum TTL", { exact: true }).fill("10");
  await page.getByLabel("Maximum TTL unit").selectOption("seconds");
  const preview = page.getByTestId("policy-preview");
  await expect(preview).toContainText("Can't preview yet: The default TTL cannot be longer than the maximum TTL (10 seconds).");
  await page.getByRole("button", { name: `Save as version ${version + 1}` }).click();
  await expect(page.getByText("Fix the fields marked below; nothing was saved.")).toBeVisible();
  await expect(page.locator("#policy-default-ttl-help")).toHaveText("The default TTL cannot be longer than the maximum TTL (10 seconds).");
  await expect(page.locator("#policy-reason-error")).toHaveText("Give a reason for the change (at least 3 characters).");
  expect(await query(`SELECT version FROM handle_policy WHERE version > $1`, [version])).toEqual([]);
  await page.screenshot({ path: `${SCREENSHOTS}/policy-errors.png`, fullPage: true });

  // 30 minutes: the preview names the change and what it does to live handles.
  await fillChange(page);
  await expect(preview).toContainText("Maximum TTL: 1 hour → 30 minutes");
  await expect(preview.getByTestId("preview-revoked")).toContainText(/Revokes \d+ live handles? now \(already older than 30 minutes\)/);
  await expect(preview.getByTestId("preview-clamped")).toContainText(/Shortens the expiry of \d+ live handles? to 30 minutes after creation/);

  // Screenshots of the filled form and its preview in both themes (a reload clears the form).
  for (const theme of ["light", "dark"] as const) {
    await setTheme(page, theme);
    await fillChange(page);
    await expect(preview.getByTestId("preview-revoked")).toBeVisible();
    await page.screenshot({ path: `${SCREENSHOTS}/policy-preview-${theme}.png`, fullPage: true });
  }

  // Revoking needs a confirmation.
  await page.getByRole("button", { name: `Save as version ${version + 1}` }).click();
  const confirm = page.getByRole("alertdialog");
  await expect(confirm).toContainText(/Revoke \d+ live handles?\?/);
  await expect(confirm.getByRole("button", { name: "Back" })).toBeFocused();
  await page.screenshot({ path: `${SCREENSHOTS}/policy-confirm-dark.png`, fullPage: true });
  await confirm.getByRole("button", { name: /^Revoke \d+ handles? and save$/ }).click();

  await expect(page.getByText(`Saved as version ${version + 1}.`)).toBeVisible();
  await expect(page.getByRole("heading", { name: `In force: version ${version + 1}` })).toBeVisible();
  const history = page.getByRole("table", { name: "Policy versions" });
  const newest = history.getByRole("row").filter({ hasText: `v${version + 1}` });
  await expect(newest).toContainText("shorter exposure window for agents");
  await expect(newest).toContainText("Maximum TTL: 1 hour → 30 minutes");
  await expect(newest).toContainText(e2eEmail("admin"));
  // The form starts again from the version in force.
  await expect(page.getByLabel(/^Reason/)).toHaveValue("");
  await expect(page.getByRole("button", { name: `Save as version ${version + 2}` })).toBeDisabled();

  await page.screenshot({ path: `${SCREENSHOTS}/policy-saved-dark.png`, fullPage: true });
  await setTheme(page, "light");
  await page.screenshot({ path: `${SCREENSHOTS}/policy-saved-light.png`, fullPage: true });

  const [policy] = await query<{ max_ttl_ms: number; reason: string }>(`SELECT max_ttl_ms, reason FROM handle_policy WHERE version = $1`, [version + 1]);
  expect(policy).toEqual({ max_ttl_ms: 30 * 60_000, reason: "shorter exposure window for agents" });
  const [revoked] = await query<{ revoke_trigger: string; revoke_reason: string }>(`SELECT revoke_trigger, revoke_reason FROM handle WHERE id = $1`, [overAge.id]);
  expect(revoked).toEqual({ revoke_trigger: "policy_tightened", revoke_reason: `policy v${version + 1}: shorter exposure window for agents` });
  const [clamped] = await query<{ revoked_at: Date | null; clamped: boolean }>(
    `SELECT revoked_at, expires_at = created_at + interval '30 minutes' AS clamped FROM handle WHERE id = $1`,
    [tooLong.id],
  );
  expect(clamped).toEqual({ revoked_at: null, clamped: true });
  const events = await query<{ action: string; target_id: string }>(
    `SELECT action, target_id FROM audit_event WHERE target_id = ANY($1) OR (action = 'policy.changed' AND target_id = $2) ORDER BY seq`,
    [[overAge.id, tooLong.id], String(version + 1)],
  );
  expect(events).toEqual([
    { action: "policy.changed", target_id: String(version + 1) },
    { action: "handle.revoked", target_id: overAge.id },
    { action: "handle.ttl_clamped", target_id: tooLong.id },
  ]);
});

test("a reviewer gets 403 from the policy page", async ({ page }) => {
  await signIn(page, "reviewer");
  await expect(page).toHaveURL(`${baseUrl()}/handles`);
  const res = await page.goto(`${baseUrl()}/admin/policy`);
  expect(res?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "You don't have access to this page" })).toBeVisible();
});

test("an admin changes one compliance threshold with a reason and sees the new version and value", async ({ page }) => {
  const [{ version } = { version: 0 }] = await query<{ version: number }>(`SELECT max(version)::int AS version FROM handle_policy`);
  const [{ target } = { target: null }] = await query<{ target: number | null }>(`SELECT (thresholds->'H-07'->>'target')::int AS target FROM handle_policy WHERE version = $1`, [version]);
  const next = target === 45_000 ? 40_000 : 45_000;

  await signIn(page, "admin");
  await expect(page).toHaveURL(`${baseUrl()}/handles`);
  await page.goto(`${baseUrl()}/admin/policy`);
  const form = page.getByTestId("thresholds-form");
  await expect(form.getByRole("heading", { name: "Compliance thresholds" })).toBeVisible();
  const row = form.getByTestId("threshold-H-07");
  await expect(row).toContainText("Revocation latency");
  await expect(row).toContainText("lower");
  const save = form.getByRole("button", { name: `Save thresholds as version ${version + 1}` });
  await expect(save).toBeDisabled();

  // A partial bound on the passing side of the target is refused, with the field named.
  await page.getByLabel("H-07 target").fill(String(next));
  await page.getByLabel("H-07 partial bound").fill("1000");
  await save.click();
  await expect(page.locator("#threshold-H-07-partial-error")).toContainText("must be above the target");
  await expect(page.locator("#thresholds-reason-error")).toHaveText("Give a reason for the change (at least 3 characters).");
  expect(await query(`SELECT version FROM handle_policy WHERE version > $1`, [version])).toEqual([]);

  await page.getByLabel("H-07 partial bound").fill("");
  await page.getByLabel(/^Why the thresholds change/).fill("faster revocation for the SOC 2 period");
  await save.click();

  await expect(form.getByText(`Saved as version ${version + 1}: H-07 changed.`)).toBeVisible();
  await expect(page.getByRole("heading", { name: `In force: version ${version + 1}` })).toBeVisible();
  await expect(form.getByTestId("threshold-H-07-current")).toHaveText(`${next} policy`);
  await expect(page.getByLabel("H-07 target")).toHaveValue(String(next));
  const newest = page.getByRole("table", { name: "Policy versions" }).getByRole("row").filter({ hasText: `v${version + 1}` });
  await expect(newest).toContainText("faster revocation for the SOC 2 period");
  await expect(newest).toContainText(`H-07 threshold: ${target ?? 60_000} → ${next}`);
  await form.screenshot({ path: `${SCREENSHOTS}/policy-thresholds-saved.png` });
  await page.screenshot({ path: `${SCREENSHOTS}/policy-thresholds-page.png`, fullPage: true });

  const [policy] = await query<{ thresholds: unknown; reason: string }>(`SELECT thresholds, reason FROM handle_policy WHERE version = $1`, [version + 1]);
  expect(policy).toMatchObject({ thresholds: { "H-07": { target: next, partial: null } }, reason: "faster revocation for the SOC 2 period" });
  const events = await query<{ action: string; payload: unknown }>(`SELECT action, payload FROM audit_event WHERE target_type = 'policy' AND target_id = $1 ORDER BY seq`, [String(version + 1)]);
  expect(events).toEqual([{ action: "policy.thresholds_changed", payload: { version: version + 1, changes: { "H-07": { from: { target: target ?? 60_000, partial: null, source: target === null ? "default" : "policy" }, to: { target: next, partial: null } } } } }]);
});
