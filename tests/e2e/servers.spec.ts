import { randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { startEverythingServer, unusedPort, type TEverythingServer } from "./support/everything-server";
import { baseUrl, query, signIn } from "./support/fixtures";

const SCREENSHOTS = process.env.SERVERS_SCREENSHOTS_DIR ?? "test-results";

let everything: TEverythingServer;

test.beforeAll(async () => {
  everything = await startEverythingServer();
});

test.afterAll(async () => {
  await everything?.close();
});

test("an admin registers server-everything and sees its capabilities and health; a server that fails the check is saved only on insistence, disabled", async ({ page }) => {
  const slug = `everything-${randomUUID().slice(0, 6)}`;
  await signIn(page, "admin");
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
  await page.goto(`${baseUrl()}/servers`);
  await page.getByRole("link", { name: "Manage servers" }).click();
  await expect(page).toHaveURL(`${baseUrl()}/admin/servers`);
  await expect(page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Servers" })).toHaveAttribute("aria-current", "page");

  const form = page.getByRole("form", { name: "Register a server" });
  // Bad input first: field errors, nothing saved.
  await form.getByRole("button", { name: "Check and register" }).click();
  await expect(form.getByText("Enter a name.")).toBeVisible();
  await expect(form.getByText("Enter the server URL.")).toBeVisible();

  await form.getByLabel("Name").fill("Everything reference");
  await form.getByLabel("Slug").fill(slug);
  await form.getByLabel("Server URL").fill(everything.url);
  await form.getByLabel("Tags").fill("reference, e2e");
  await form.getByRole("button", { name: "Check and register" }).click();
  await expect(form.getByRole("status")).toHaveText("Registered Everything reference: core 2025-11-25 task wire.");

  const card = page.getByRole("region", { name: "Everything reference" });
  await expect(card).toContainText(`/mcp/${slug} → ${everything.url}`);
  await expect(card).toContainText("core 2025-11-25");
  await expect(card).toContainText("✓ tasks/list");
  await expect(card).toContainText("✓ tasks/cancel");
  await expect(card).toContainText("1 task-required");
  await expect(card.getByText("up", { exact: true })).toBeVisible();
  // Re-checking records another health check.
  await card.getByRole("button", { name: "Re-check Everything reference" }).click();
  await expect(card.getByRole("status")).toContainText("Checked");

  // A server that is not there: the exact problem, then "save anyway", saved disabled.
  const port = await unusedPort();
  await form.getByLabel("Name").fill("Gone server");
  await form.getByLabel("Slug").fill(`gone-${randomUUID().slice(0, 6)}`);
  await form.getByLabel("Server URL").fill(`http://127.0.0.1:${port}/mcp`);
  await form.getByLabel("Bearer token").fill("e2e-secret-token-value");
  await form.getByRole("button", { name: "Check and register" }).click();
  const failure = form.getByTestId("probe-failure");
  await expect(failure).toContainText(`Unreachable: Nothing accepted the connection at 127.0.0.1:${port} (connection refused).`);
  await expect(form.getByLabel("Server URL")).toHaveAttribute("aria-invalid", "true");
  await failure.getByRole("button", { name: "Save anyway (disabled)" }).click();
  await expect(form.getByRole("status")).toContainText("Saved Gone server, disabled: Nothing accepted the connection");
  const gone = page.getByRole("region", { name: "Gone server" });
  await expect(gone.getByText("disabled", { exact: true })).toBeVisible();
  await expect(gone).toContainText("credentials: bearer token (set)");
  expect(await page.content()).not.toContain("e2e-secret-token-value");

  // Everyone with servers.read sees health, sparkline, wire and capabilities on /servers.
  await page.goto(`${baseUrl()}/servers`);
  const row = page.locator(`[data-testid="server-row"][data-slug="${slug}"]`);
  await expect(row).toContainText("Everything reference");
  await expect(row).toContainText("up");
  await expect(row).toContainText("core 2025-11-25");
  await expect(row).toContainText("Everything Reference Server 2.0.0 · MCP 2025-11-25");
  await expect(row.getByTestId("health-sparkline")).toHaveAttribute("aria-label", /^Last \d+ checks: \d+ answered \(median \d+ ms\), 0 failed\.$/);
  await page.screenshot({ path: `${SCREENSHOTS}/servers-page.png`, fullPage: true });

  await row.getByRole("link", { name: "Everything reference" }).click();
  await expect(page.getByRole("heading", { name: "Everything reference", level: 1 })).toBeVisible();
  const tools = page.getByRole("table", { name: "Tools" });
  await expect(tools.getByRole("row").filter({ hasText: "simulate-research-query" })).toContainText("required");
  await expect(tools.getByRole("row").filter({ hasText: "echo" }).first()).toContainText("forbidden");
  await page.screenshot({ path: `${SCREENSHOTS}/server-detail.png`, fullPage: true });
  await page.goto(`${baseUrl()}/admin/servers`);
  await page.screenshot({ path: `${SCREENSHOTS}/admin-servers.png`, fullPage: true });

  const [stored] = await query<{ id: string; enabled: boolean; task_wires: string }>(`SELECT id, enabled, task_wires::text FROM mcp_server WHERE slug = $1`, [slug]);
  expect(stored).toMatchObject({ enabled: true, task_wires: "{core_2025_11_25}" });
  const events = await query<{ action: string; actor_type: string }>(`SELECT action, actor_type::text FROM audit_event WHERE target_id = $1 ORDER BY seq`, [stored!.id]);
  expect(events.map((e) => e.action)).toEqual(["server.registered", "server.health_changed"]);
  const leaks = await query<{ n: string }>(`SELECT count(*)::text AS n FROM audit_event WHERE payload::text LIKE '%e2e-secret-token-value%'`);
  expect(leaks[0]!.n).toBe("0");
});

test("a viewer sees the servers but no way to manage them", async ({ page }) => {
  await signIn(page, "viewer");
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
  await page.goto(`${baseUrl()}/servers`);
  await expect(page.getByRole("heading", { name: "Servers" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Manage servers" })).toHaveCount(0);
  const response = await page.goto(`${baseUrl()}/admin/servers`);
  expect(response?.status()).toBe(403);
});

test("an admin watches a task an agent started on server-everything change status live", async ({ page }) => {
  const slug = `everything-live-${randomUUID().slice(0, 6)}`;
  await signIn(page, "admin");
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
  // The server and an agent with a key, through the REST API as the admin.
  const registered = await page.request.post(`${baseUrl()}/api/v1/servers`, { data: { name: "Everything (live)", slug, url: everything.url } });
  expect(registered.status(), await registered.text()).toBe(201);
  const account = await page.request.post(`${baseUrl()}/api/v1/service-accounts`, { data: { name: `e2e-live-agent-${slug}` } });
  expect(account.status(), await account.text()).toBe(201);
  const principalId = ((await account.json()) as { id: string }).id;
  const issued = await page.request.post(`${baseUrl()}/api/v1/api-keys`, { data: { principalId, name: "e2e live" } });
  const apiKey = ((await issued.json()) as { key: string }).key;

  await page.goto(`${baseUrl()}/handles?server=${slug}`);
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "live");
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

  // The agent: the official SDK client through the gateway. It starts the task and never polls.
  const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
  const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
  const { CreateTaskResultSchema } = await import("@modelcontextprotocol/sdk/types.js");
  const client = new Client({ name: "e2e-live-agent", version: "1.0.0" }, { capabilities: {} });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${baseUrl()}/mcp/${slug}`), { requestInit: { headers: { Authorization: `Bearer ${apiKey}` } } }));
  try {
    const created = await client.request(
      { method: "tools/call", params: { name: "simulate-research-query", arguments: { topic: "live status" }, task: { ttl: 120_000 } } },
      CreateTaskResultSchema,
    );
    expect(created.task.taskId).toMatch(/^tht_/);
    // The new handle appears without a reload, working; then the status sync sees the upstream
    // finish and the row says so, still without a reload and without the agent asking.
    const row = page.getByTestId("handle-row").filter({ hasText: "simulate-research-query" });
    await expect(row).toContainText("working", { timeout: 5_000 });
    await expect(row).toContainText("completed", { timeout: 45_000 });
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    const [handle] = await query<{ status: string; use_count: number }>(`SELECT h.status::text AS status, h.use_count FROM handle h JOIN mcp_server s ON s.id = h.server_id WHERE s.slug = $1`, [slug]);
    expect(handle).toEqual({ status: "completed", use_count: 0 }); // nobody but the sync worker asked
  } finally {
    await client.close();
  }
});
