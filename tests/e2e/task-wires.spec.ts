// Both task wires in one console: a 2025-11-25 core-tasks server (the official server-everything)
// and a 2026-07-28 Tasks-extension server (the test fixture), registered through the API, each
// used by an agent through the gateway; the registry shows which wire each speaks and the
// inventory shows the two kinds of handle side by side with their wire.
import { randomBytes, randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { startExtTasksUpstream, type TExtTasksUpstream } from "../fixtures/ext-tasks-upstream";
import { startEverythingServer, type TEverythingServer } from "./support/everything-server";
import { baseUrl, signIn, signOut } from "./support/fixtures";

const SCREENSHOTS = process.env.SERVERS_SCREENSHOTS_DIR ?? "test-results";
const EXT = "io.modelcontextprotocol/tasks";

let everything: TEverythingServer;
let ext: TExtTasksUpstream;

test.beforeAll(async () => {
  [everything, ext] = await Promise.all([startEverythingServer(), startExtTasksUpstream({ bearerToken: randomBytes(24).toString("base64url") })]);
});

test.afterAll(async () => {
  await Promise.allSettled([everything?.close(), ext?.close()]);
});

test("a reviewer sees handles of both task wires side by side, each with its wire and binding", async ({ page }) => {
  const tag = randomUUID().slice(0, 6);
  await signIn(page, "admin");
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
  const register = async (data: Record<string, unknown>) => {
    const response = await page.request.post(`${baseUrl()}/api/v1/servers`, { data });
    expect(response.status(), await response.text()).toBe(201);
    return ((await response.json()) as { server: { id: string; taskWires: string[] } }).server;
  };
  const core = await register({ name: "Everything (core tasks)", slug: `core-${tag}`, url: everything.url });
  const extension = await register({ name: "Extension fixture", slug: `ext-${tag}`, url: ext.url, bearerToken: ext.bearerToken });
  expect(core.taskWires).toEqual(["core_2025_11_25"]);
  expect(extension.taskWires).toEqual(["ext_2026_07_28"]);
  const account = await page.request.post(`${baseUrl()}/api/v1/service-accounts`, { data: { name: `e2e-wires-${tag}` } });
  const principalId = ((await account.json()) as { id: string }).id;
  const apiKey = ((await (await page.request.post(`${baseUrl()}/api/v1/api-keys`, { data: { principalId, name: "e2e wires" } })).json()) as { key: string }).key;

  // The core-wire agent: the official SDK 1.x client, in a session, asking for a task.
  const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
  const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
  const { CreateTaskResultSchema } = await import("@modelcontextprotocol/sdk/types.js");
  const client = new Client({ name: "e2e-core-agent", version: "1.0.0" }, { capabilities: {} });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${baseUrl()}/mcp/core-${tag}`), { requestInit: { headers: { Authorization: `Bearer ${apiKey}` } } }));
  try {
    const created = await client.request({ method: "tools/call", params: { name: "simulate-research-query", arguments: { topic: "wires" }, task: { ttl: 120_000 } } }, CreateTaskResultSchema);
    expect(created.task.taskId).toMatch(/^tht_/);
  } finally {
    await client.close();
  }
  // The extension-wire agent: no session, its opt-in in the request's own capabilities.
  const answer = await fetch(`${baseUrl()}/mcp/ext-${tag}`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "slow_task" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: {
        name: "slow_task",
        arguments: { seconds: 120 },
        _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": { name: "e2e-ext-agent", version: "1" }, "io.modelcontextprotocol/clientCapabilities": { extensions: { [EXT]: {} } } },
      },
    }),
  });
  const created = (await answer.json()) as { result: { resultType: string; taskId: string } };
  expect(created.result).toMatchObject({ resultType: "task" });
  expect(created.result.taskId).toMatch(/^tht_/);

  await signOut(page);
  await signIn(page, "reviewer");
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
  await page.goto(`${baseUrl()}/handles?owner=${principalId}&cols=server,owner,session,tool,status,expires`);
  const rows = page.getByTestId("handle-row");
  await expect(rows).toHaveCount(2);
  const coreRow = rows.filter({ hasText: `core-${tag}` });
  const extRow = rows.filter({ hasText: `ext-${tag}` });
  await expect(coreRow.getByTestId("handle-wire")).toHaveText("core 2025-11-25");
  await expect(extRow.getByTestId("handle-wire")).toHaveText("extension 2026-07-28");
  await expect(extRow).toContainText("none (no sessions on this wire)");
  await page.screenshot({ path: `${SCREENSHOTS}/task-wires-inventory.png`, fullPage: true });

  // The wire facet narrows to one kind.
  await page.goto(`${baseUrl()}/handles?owner=${principalId}&wire=ext_2026_07_28`);
  await expect(rows).toHaveCount(1);
  await rows.first().getByRole("link").first().click();
  await expect(page.getByTestId("not-session-bound")).toContainText("Not session-bound");
  await expect(page.getByText("The 2026-07-28 task wire has no sessions")).toBeVisible();
  await expect(page.getByText("extension 2026-07-28").first()).toBeVisible();
  await page.screenshot({ path: `${SCREENSHOTS}/task-wires-handle.png`, fullPage: true });
});
