// The handle page and the support view in Chromium, against the production build: a real demo
// upstream registered through the REST API, a real agent (official SDK client) through the gateway,
// then support cancels its running task and sees it confirmed; a viewer sees no actions and gets
// 403 from the API; a reviewer revokes from the handle page.
import { randomBytes, randomUUID } from "node:crypto";
import { expect, test, type APIRequestContext, type Browser, type Page } from "@playwright/test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CreateTaskResultSchema } from "@modelcontextprotocol/sdk/types.js";
import type { TRole } from "@/lib/auth/permissions";
import { startDemoUpstream, type TDemoUpstream } from "@/lib/demo-upstream/server";
import { baseUrl, query, signIn } from "./support/fixtures";

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

/** A task the agent starts through the gateway, and the accessor of the handle Tether minted for it. */
async function startTask(tool: string, args: Record<string, unknown>): Promise<{ client: Client; token: string; accessor: string }> {
  const client = new Client({ name: "e2e-agent", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${baseUrl()}/mcp/${slug}`), { requestInit: { headers: { Authorization: `Bearer ${agent.key}` } } }));
  clients.push(client);
  const { task } = await client.request({ method: "tools/call", params: { name: tool, arguments: args, task: { ttl: 600_000 } } }, CreateTaskResultSchema);
  const [row] = await query<{ accessor: string }>(`SELECT accessor FROM handle WHERE principal_id = $1 ORDER BY created_at DESC LIMIT 1`, [agent.principalId]);
  return { client, token: task.taskId, accessor: row!.accessor };
}

test.beforeAll(async ({ browser }) => {
  const bearerToken = randomBytes(24).toString("base64url");
  demo = await startDemoUpstream({ port: 0, bearerToken, defaultDurationSeconds: 1, log: () => undefined });
  slug = `demo-${randomUUID().slice(0, 6)}`;
  const admin = await signedIn(browser, "admin");
  await post(admin.request, "/api/v1/servers", { name: `Demo ${slug}`, slug, url: demo.url, bearerToken });
  const account = await post(admin.request, "/api/v1/service-accounts", { name: `e2e-agent-${slug}`, role: "viewer" });
  const created = await post(admin.request, "/api/v1/api-keys", { principalId: account.id, name: "e2e" });
  agent = { principalId: account.id as string, key: created.key as string };
  await admin.context().close();
});

test.afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await demo?.close();
});

test("a support user cancels a running demo task from the queued-and-running view and sees it confirmed", async ({ browser }) => {
  const { client, token, accessor } = await startTask("queued_task", { queueSeconds: 300, seconds: 1 });
  const page = await signedIn(browser, "support");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Queued & running" }).click();
  await expect(page).toHaveURL(`${baseUrl()}/handles/active`);
  await expect(page.getByRole("heading", { name: "Queued and running actions" })).toBeVisible();
  const row = page.getByRole("row").filter({ hasText: accessor });
  await expect(row).toContainText("queued_task");

  // The confirmation asks for a reason first.
  await row.getByRole("button", { name: `Cancel task ${accessor}` }).click();
  const form = row.getByRole("form", { name: `Cancel task ${accessor}` });
  await form.getByRole("button", { name: "Confirm cancel" }).click();
  await expect(form.getByText("Give a reason for the cancellation (at least 3 characters).")).toBeVisible();
  await form.getByLabel("Reason (recorded in the audit trail)").fill("The customer withdrew the request");
  await form.getByRole("button", { name: "Confirm cancel" }).click();

  const outcome = page.getByRole("status").filter({ hasText: accessor });
  await expect(outcome).toContainText("Cancel confirmed by the upstream server; the handle is revoked.");
  await expect(page.getByRole("row").filter({ hasText: accessor })).toHaveCount(0);

  // The handle page shows the final state and the whole story.
  await outcome.getByRole("link", { name: accessor }).click();
  await expect(page).toHaveURL(`${baseUrl()}/handles/${accessor}`);
  const status = page.getByRole("region", { name: "Status", exact: true });
  await expect(status).toContainText("cancelled");
  await expect(status).toContainText("confirmed");
  await expect(status).toContainText("The customer withdrew the request");
  const timeline = page.getByRole("table", { name: "Timeline" });
  await expect(timeline.locator("tr[data-action='handle.cancel_requested']")).toContainText("The customer withdrew the request");
  await expect(timeline.locator("tr[data-action='handle.cancel_outcome']")).toContainText("Cancel confirmed by the upstream");
  await expect(timeline.locator("tr[data-action='handle.revoked']")).toContainText("trigger: cancel");
  await expect(page.getByRole("button", { name: `Cancel task ${accessor}` })).toHaveCount(0);
  expect(await page.content()).not.toContain(token);

  const [handle] = await query<{ status: string; cancel_state: string; revoke_trigger: string }>(`SELECT status, cancel_state, revoke_trigger FROM handle WHERE accessor = $1`, [accessor]);
  expect(handle).toEqual({ status: "cancelled", cancel_state: "confirmed", revoke_trigger: "cancel" });
  // The agent's handle is dead at the gateway.
  await expect(client.experimental.tasks.getTask(token)).rejects.toThrow(/not found/i);
});

test("a viewer sees a handle without action buttons and gets 403 from the API; a reviewer revokes it from the page", async ({ browser }) => {
  const { accessor } = await startTask("long_task", { seconds: 300 });
  const viewer = await signedIn(browser, "viewer");
  await viewer.goto(`${baseUrl()}/handles/${accessor}`);
  await expect(viewer.getByRole("heading", { name: accessor })).toBeVisible();
  await expect(viewer.getByRole("region", { name: "Status", exact: true })).toContainText("working");
  await expect(viewer.getByRole("region", { name: "Binding", exact: true })).toContainText(`e2e-agent-${slug}`);
  await expect(viewer.getByRole("meter", { name: "Lifetime used" })).toBeVisible();
  await expect(viewer.getByRole("table", { name: "Timeline" }).locator("tr[data-action='handle.issued']")).toBeVisible();
  await expect(viewer.getByRole("heading", { name: "Actions" })).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: /Cancel task|Revoke/ })).toHaveCount(0);
  await viewer.goto(`${baseUrl()}/handles/active`);
  await expect(viewer.getByRole("row").filter({ hasText: accessor })).toBeVisible();
  await expect(viewer.getByRole("button", { name: /Cancel task/ })).toHaveCount(0);

  for (const action of ["cancel", "revoke"]) {
    const refused = await viewer.request.post(`${baseUrl()}/api/v1/handles/${accessor}/${action}`, { data: { reason: "viewers may not" } });
    expect(refused.status()).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("FORBIDDEN");
  }
  expect((await viewer.request.get(`${baseUrl()}/api/v1/handles/${accessor}`)).status()).toBe(200);
  // An unknown handle is the global 404 page, with status 404 (nothing is streamed before the page decides).
  const missing = await viewer.goto(`${baseUrl()}/handles/hdl_${"0".repeat(20)}`);
  expect(missing?.status()).toBe(404);
  await expect(viewer.getByRole("heading", { name: "Page not found" })).toBeVisible();
  expect((await viewer.request.get(`${baseUrl()}/api/v1/handles/hdl_${"0".repeat(20)}`)).status()).toBe(404);
  const [untouched] = await query<{ revoked_at: Date | null; cancel_state: string }>(`SELECT revoked_at, cancel_state FROM handle WHERE accessor = $1`, [accessor]);
  expect(untouched).toEqual({ revoked_at: null, cancel_state: "none" });

  const reviewer = await signedIn(browser, "reviewer");
  await reviewer.goto(`${baseUrl()}/handles/${accessor}`);
  await reviewer.getByRole("button", { name: `Revoke handle ${accessor}` }).click();
  const form = reviewer.getByRole("form", { name: `Revoke handle ${accessor}` });
  await form.getByLabel("Reason (recorded in the audit trail)").fill("Token pasted into a ticket");
  await form.getByRole("button", { name: "Confirm revoke" }).click();
  await expect(reviewer.getByRole("status").filter({ hasText: "Revoked: the gateway refuses this handle from its next call." })).toBeVisible();
  await expect(reviewer.getByRole("region", { name: "Status", exact: true })).toContainText("Token pasted into a ticket");
  await expect(reviewer.getByRole("button", { name: `Revoke handle ${accessor}` })).toHaveCount(0);
  const [revoked] = await query<{ revoke_trigger: string; revoke_reason: string }>(`SELECT revoke_trigger, revoke_reason FROM handle WHERE accessor = $1`, [accessor]);
  expect(revoked).toEqual({ revoke_trigger: "manual", revoke_reason: "Token pasted into a ticket" });
});
