// A bulk revoke in Chromium against the production build: a real demo upstream registered through
// the REST API, a real agent (official SDK client) that starts tasks through the gateway in two
// sessions, then a reviewer filters the inventory by one session, chooses "all matching", checks
// the preview, executes, follows the progress to the summary, and the agent is refused.
import { randomBytes, randomUUID } from "node:crypto";
import { expect, test, type APIRequestContext, type Browser, type Page } from "@playwright/test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CreateTaskResultSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { TRole } from "@/lib/auth/permissions";
import { startDemoUpstream, type TDemoUpstream } from "@/lib/demo-upstream/server";
import { baseUrl, query, signIn } from "./support/fixtures";
import { e2eEmail } from "./support/users";

const SCREENSHOTS = process.env.BULK_SCREENSHOTS_DIR ?? "/tmp";

let demo: TDemoUpstream;
let slug: string;
let agent: { principalId: string; key: string };
const clients: Client[] = [];

async function signedIn(browser: Browser, role: TRole): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, role);
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
  return page;
}

async function post(request: APIRequestContext, path: string, data: unknown) {
  const response = await request.post(`${baseUrl()}${path}`, { data });
  expect(response.status(), await response.text()).toBeLessThan(300);
  return response.json() as Promise<Record<string, unknown>>;
}

/** One agent session at the gateway. */
async function connect(): Promise<Client> {
  const client = new Client({ name: "e2e-bulk-agent", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${baseUrl()}/mcp/${slug}`), { requestInit: { headers: { Authorization: `Bearer ${agent.key}` } } }));
  clients.push(client);
  return client;
}

async function startTask(client: Client): Promise<string> {
  const { task } = await client.request({ method: "tools/call", params: { name: "long_task", arguments: { seconds: 300 }, task: { ttl: 600_000 } } }, CreateTaskResultSchema);
  return task.taskId;
}

test.beforeAll(async ({ browser }) => {
  const bearerToken = randomBytes(24).toString("base64url");
  demo = await startDemoUpstream({ port: 0, bearerToken, defaultDurationSeconds: 1, log: () => undefined });
  slug = `bulk-${randomUUID().slice(0, 6)}`;
  const admin = await signedIn(browser, "admin");
  await post(admin.request, "/api/v1/servers", { name: `Demo ${slug}`, slug, url: demo.url, bearerToken });
  const account = await post(admin.request, "/api/v1/service-accounts", { name: `e2e-bulk-agent-${slug}`, role: "viewer" });
  const created = await post(admin.request, "/api/v1/api-keys", { principalId: account.id, name: "e2e" });
  agent = { principalId: account.id as string, key: created.key as string };
  await admin.context().close();
});

test.afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await demo?.close();
});

test("a reviewer bulk-revokes every handle of one session: preview, execute, progress, summary; the agent is refused", async ({ browser }) => {
  const first = await connect();
  const tokens = [await startTask(first), await startTask(first), await startTask(first), await startTask(first)];
  const other = await connect();
  const otherToken = await startTask(other);
  const rows = await query<{ accessor: string; session_id: string }>(
    `SELECT accessor, session_id::text AS session_id FROM handle WHERE principal_id = $1 ORDER BY created_at`,
    [agent.principalId],
  );
  const session = rows[0]!.session_id;
  const inSession = rows.filter((r) => r.session_id === session).map((r) => r.accessor);
  const outside = rows.find((r) => r.session_id !== session)!.accessor;
  expect(inSession).toHaveLength(4);

  const page = await signedIn(browser, "reviewer");
  await page.goto(`${baseUrl()}/handles?session=${session}`);
  await expect(page.getByTestId("handle-row")).toHaveCount(4);
  const bar = page.getByRole("region", { name: "Bulk actions" });
  await bar.getByRole("link", { name: "Revoke all matching this filter" }).click();

  // Step 1: the preview of exactly these four.
  await expect(page).toHaveURL(new RegExp(`/bulk/new\\?kind=revoke&scope=filter&session=${session}$`));
  await expect(page.getByRole("heading", { name: "Bulk revoke: preview" })).toBeVisible();
  await expect(page.getByTestId("bulk-selection")).toContainText(session);
  await expect(page.getByTestId("bulk-preview-count")).toHaveText("4");
  await expect(page.getByTestId("bulk-sample-row")).toHaveCount(4);
  expect(new Set(await page.getByTestId("bulk-sample-row").getByRole("link").allTextContents())).toEqual(new Set(inSession));
  await expect(page.getByRole("table", { name: "By server" })).toContainText(slug);
  await expect(page.getByRole("table", { name: "By owner" })).toContainText(`e2e-bulk-agent-${slug}`);
  await page.screenshot({ path: `${SCREENSHOTS}/bulk-preview.png`, fullPage: true });

  // Step 2: a reason is required; the button names the count that was shown.
  const execute = page.getByRole("button", { name: "Revoke 4 handles" });
  await execute.click();
  await expect(page.getByText("Give a reason (at least 3 characters).")).toBeVisible();
  await page.getByLabel(/^Reason/).fill("agent credentials leaked in session logs");
  await execute.click();

  // The job page: progress, then the summary and every handle's result.
  await expect(page).toHaveURL(/\/bulk\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: "Bulk revoke of 4 handles" })).toBeVisible();
  await expect(page.getByRole("progressbar", { name: "Progress" })).toBeVisible();
  await expect(page.getByTestId("bulk-status")).toHaveText("completed", { timeout: 15_000 });
  await expect(page.getByRole("progressbar", { name: "Progress" })).toHaveAttribute("aria-valuenow", "4");
  await expect(page.getByTestId("bulk-processed")).toHaveText("4");
  const summary = page.getByTestId("bulk-summary");
  await expect(summary).toContainText("revoked");
  await expect(summary.getByRole("row")).toHaveCount(1);
  await expect(summary).toContainText("4");
  await expect(page.locator('[data-testid="bulk-item"][data-result="revoked"]')).toHaveCount(4);
  await page.screenshot({ path: `${SCREENSHOTS}/bulk-done.png`, fullPage: true });

  // Enforced: the session's handles are refused at the gateway, the other session's still works.
  for (const token of tokens) await expect(first.experimental.tasks.getTask(token)).rejects.toBeInstanceOf(McpError);
  expect((await other.experimental.tasks.getTask(otherToken)).status).toBe("working");

  // Recorded: one revocation per handle, trigger bulk, in the reviewer's name with the reason.
  const [reviewer] = await query<{ id: string }>(`SELECT id FROM principal WHERE email = $1`, [e2eEmail("reviewer")]);
  const revoked = await query<{ accessor: string; revoke_trigger: string; revoked_by_id: string; revoke_reason: string }>(
    `SELECT accessor, revoke_trigger, revoked_by_id::text AS revoked_by_id, revoke_reason FROM handle WHERE principal_id = $1 AND revoked_at IS NOT NULL`,
    [agent.principalId],
  );
  expect(new Set(revoked.map((r) => r.accessor))).toEqual(new Set(inSession));
  for (const r of revoked) expect(r).toMatchObject({ revoke_trigger: "bulk", revoked_by_id: reviewer!.id, revoke_reason: "agent credentials leaked in session logs" });
  expect(revoked.map((r) => r.accessor)).not.toContain(outside);
  const events = await query<{ n: number }>(
    `SELECT count(*)::int AS n FROM audit_event WHERE action = 'handle.revoked' AND payload->>'trigger' = 'bulk' AND payload->>'accessor' = ANY($1::text[])`,
    [inSession],
  );
  expect(events[0]!.n).toBe(4);

  // The job is listed.
  await page.getByRole("link", { name: "All bulk actions" }).click();
  await expect(page.getByTestId("bulk-row").first()).toContainText("Bulk revoke of 4");
});
