// Compliance reports in Chromium against the production build: an auditor generates the
// last-30-days report (the real background worker computes it), opens a failing control, follows
// a sample handle to its page, and downloads the CSV and the OSCAL export; the database then
// holds the completed report and the audit trail its generation, viewing and exports.
import { randomBytes, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { expect, test, type Page } from "@playwright/test";
import { baseUrl, query, signIn } from "./support/fixtures";

const DAY = 86_400_000;

/** A handle minted 29 days ago that lives 3 hours, three times the default policy's maximum TTL. */
async function seedOverlongHandle(): Promise<string> {
  const slug = `rpt-${randomUUID().slice(0, 8)}`;
  const [agent] = await query<{ id: string }>(`INSERT INTO principal (id, kind, role, name, updated_at) VALUES (gen_random_uuid(), 'service', 'viewer', $1, now()) RETURNING id`, [`report-agent-${slug}`]);
  const [server] = await query<{ id: string }>(
    `INSERT INTO mcp_server (id, slug, name, url, audience, updated_at) VALUES (gen_random_uuid(), $1, $1, 'http://127.0.0.1:9/mcp', $2, now()) RETURNING id`,
    [slug, `https://tether.e2e/mcp/${slug}`],
  );
  const [session] = await query<{ id: string }>(
    `INSERT INTO gateway_session (id, session_hash, principal_id, server_id) VALUES (gen_random_uuid(), $1, $2, $3) RETURNING id`,
    [randomBytes(32).toString("base64url"), agent!.id, server!.id],
  );
  const accessor = `hdl_${randomBytes(10).toString("hex")}`;
  const createdAt = new Date(Date.now() - 29 * DAY);
  await query(
    `INSERT INTO handle (id, accessor, token_hash, token_enc, upstream_task_id_enc, upstream_task_id_hash, wire, server_id, principal_id, session_id,
                         audience, tool_name, policy_version, effective_ttl_ms, created_at, expires_at, last_updated_at)
     VALUES (gen_random_uuid(), $1, $2, 'v1.a.b.c', 'v1.a.b.c', $3, 'core_2025_11_25', $4, $5, $6, $7, 'long_task', 1, 10800000, $8, $9, $8)`,
    [accessor, randomBytes(32).toString("base64url"), randomBytes(32).toString("base64url"), server!.id, agent!.id, session!.id, `https://tether.e2e/mcp/${slug}`, createdAt, new Date(createdAt.getTime() + 3 * 3_600_000)],
  );
  return accessor;
}

async function download(page: Page, name: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name }).click()]);
  return readFile((await file.path())!, "utf8");
}

test("an auditor generates the last-30-days report, follows a failing control's sample handle, and downloads CSV and OSCAL", async ({ page }) => {
  test.setTimeout(180_000);
  const accessor = await seedOverlongHandle();
  await signIn(page, "auditor");
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reports" }).click();
  await expect(page.getByRole("heading", { name: "Compliance reports" })).toBeVisible();

  // The period: last 30 days is the default choice.
  const form = page.getByRole("form", { name: "Generate a report" });
  await expect(form.getByRole("radio", { name: "Last 30 days" })).toBeChecked();
  await form.getByRole("button", { name: "Generate report" }).click();
  await page.waitForURL(/\/reports\/[0-9a-f-]{36}$/);
  const reportId = page.url().split("/").pop()!;
  await expect(page.getByRole("heading", { name: "Compliance report: Last 30 days" })).toBeVisible();
  // The worker generates it; the page follows its progress and then shows the result.
  await expect(page.getByRole("link", { name: "Download CSV" })).toBeVisible({ timeout: 120_000 });
  await expect(page.getByRole("table", { name: "CSF 2.0 subcategories" })).toContainText("PR.AA-05");

  // A failing control: TTL conformance, with the over-long handle in its sample.
  const control = page.getByRole("group", { name: "H-03 TTL conformance" });
  const heading = control.locator(":scope > summary");
  await heading.click();
  await expect(heading).toContainText("Fail");
  await expect(control).toContainText("Threshold");
  await expect(control.getByRole("img")).toBeVisible(); // the trend chart
  const sample = control.getByRole("list", { name: "Offending sample of H-03" });
  await sample.getByRole("link", { name: accessor }).click();
  await expect(page).toHaveURL(`${baseUrl()}/handles/${accessor}`);
  await expect(page.getByRole("heading", { name: accessor })).toBeVisible();
  await page.goBack();
  await expect(page.getByRole("heading", { name: "Compliance report: Last 30 days" })).toBeVisible();

  const csv = await download(page, "Download CSV");
  const lines = csv.trim().split("\n");
  expect(lines[0]).toMatch(/^report_id,period_start,period_end,control_id,title,status,/);
  expect(lines).toHaveLength(23);
  const h03 = lines.find((l) => l.includes(",H-03,"))!;
  expect(h03).toContain(",fail,");
  expect(h03).toContain(accessor);

  const oscal = JSON.parse(await download(page, "Download OSCAL")) as {
    "assessment-results": { metadata: { "oscal-version": string }; results: Array<{ observations: unknown[]; findings: Array<{ target: { "target-id": string; status: { state: string; reason: string } } }> }> };
  };
  const ar = oscal["assessment-results"];
  expect(ar.metadata["oscal-version"]).toBe("1.2.2");
  expect(ar.results[0]!.observations).toHaveLength(22);
  expect(ar.results[0]!.findings.find((f) => f.target["target-id"] === "PR.AA-05_statement")!.target.status).toEqual({ state: "not-satisfied", reason: "fail" });

  const [row] = await query<{ status: string; content_sha256: string; checkpoint_position: string }>(
    "SELECT status, content_sha256, checkpoint_position::text FROM compliance_report WHERE id = $1",
    [reportId],
  );
  expect(row).toMatchObject({ status: "completed", content_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  const events = await query<{ action: string; format: string | null }>(
    "SELECT action, payload->>'format' AS format FROM audit_event WHERE target_type = 'compliance_report' AND target_id = $1 ORDER BY seq",
    [reportId],
  );
  expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(["report.requested", "report.generated", "report.viewed"]));
  expect(events.filter((e) => e.action === "report.exported").map((e) => e.format)).toEqual(["csv", "oscal"]);
});

test("a reviewer reads reports but cannot generate one; the API refuses a period in the future", async ({ browser }) => {
  const reviewer = await (await browser.newContext()).newPage();
  await signIn(reviewer, "reviewer");
  await reviewer.waitForURL((url) => !url.pathname.startsWith("/signin"));
  await reviewer.goto(`${baseUrl()}/reports`);
  await expect(reviewer.getByRole("heading", { name: "Compliance reports" })).toBeVisible();
  await expect(reviewer.getByRole("form", { name: "Generate a report" })).toHaveCount(0);
  const refused = await reviewer.request.post(`${baseUrl()}/api/v1/reports`, { data: { preset: "last_7_days" } });
  expect(refused.status()).toBe(403);
  await reviewer.context().close();

  const auditor = await (await browser.newContext()).newPage();
  await signIn(auditor, "auditor");
  await auditor.waitForURL((url) => !url.pathname.startsWith("/signin"));
  const future = await auditor.request.post(`${baseUrl()}/api/v1/reports`, { data: { preset: "custom", start: "2026-01-01", end: "2099-01-01" } });
  expect(future.status()).toBe(422);
  expect((await future.json()) as unknown).toMatchObject({ error: { code: "INVALID_INPUT", message: expect.stringMatching(/future/) } });
  // The CSF lookup finds the 2.0 successor of the seed's 1.1 id.
  await auditor.goto(`${baseUrl()}/reports?csf=PR.AC-4`);
  await expect(auditor.getByRole("list", { name: "CSF matches" })).toContainText("PR.AA-05");
  await auditor.context().close();
});
