// Live updates in Chromium, against the production build: two signed-in browsers watch the same
// inventory; a status change committed through the status-sync use case by another process, and a
// revocation the first browser makes, appear in the second without a reload, and the header's
// indicator says "Live". The Servers page follows a health transition the same way, including one
// committed after the page was rendered but before its stream opened. The stream itself
// (GET /api/live) is 401 without a session.
import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test, type Browser, type Page } from "@playwright/test";
import type { TRole } from "@/lib/auth/permissions";
import { baseUrl, query, signIn } from "./support/fixtures";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

async function signedIn(browser: Browser, role: TRole): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, role);
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
  return page;
}

/** The status-sync use case, run by another process on the run's database. */
function applyStatus(accessor: string, status: string): string {
  const r = spawnSync(path.join(root, "node_modules", ".bin", "tsx"), ["--conditions=react-server", "tests/e2e/support/apply-status.ts", accessor, status], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL, LOG_LEVEL: "warn" },
  });
  if (r.status !== 0) throw new Error(`apply-status failed:\n${r.stderr}`);
  return r.stdout.trim();
}

/** A server nobody polls or health-checks during the test, and one working handle on it. */
async function seed(): Promise<{ slug: string; serverId: string; accessor: string }> {
  const slug = `e2e-live-${randomUUID().slice(0, 8)}`;
  const [server] = await query<{ id: string }>(
    `INSERT INTO mcp_server (id, slug, name, url, audience, polling_paused, next_health_check_at, updated_at)
     VALUES (gen_random_uuid(), $1, $1, 'http://127.0.0.1:9/mcp', 'https://e2e.tether.test/mcp', true, now() + interval '1 day', now()) RETURNING id`,
    [slug],
  );
  const [owner] = await query<{ id: string }>(`INSERT INTO principal (id, kind, role, name, updated_at) VALUES (gen_random_uuid(), 'service', 'viewer', $1, now()) RETURNING id`, [`live-agent-${slug}`]);
  const accessor = `hdl_${randomBytes(12).toString("hex")}`;
  await query(
    `INSERT INTO handle (id, accessor, token_hash, token_enc, upstream_task_id_enc, upstream_task_id_hash, wire, server_id, principal_id, audience, tool_name, policy_version, effective_ttl_ms, expires_at)
     VALUES (gen_random_uuid(), $1, $2, 'enc:e2e', 'enc:e2e', $2, 'core_2025_11_25', $3, $4, 'https://e2e.tether.test/mcp', 'long_task', 1, 3600000, now() + interval '1 hour')`,
    [accessor, randomBytes(32).toString("hex"), server!.id, owner!.id],
  );
  return { slug, serverId: server!.id, accessor };
}

test("a second browser sees a status change and a revocation live, and the indicator shows live", async ({ browser }) => {
  const { slug, accessor } = await seed();
  const reviewer = await signedIn(browser, "reviewer");
  const viewer = await signedIn(browser, "viewer");
  for (const page of [reviewer, viewer]) {
    await page.goto(`${baseUrl()}/handles?server=${slug}`);
    await expect(page.getByTestId("handle-row").filter({ hasText: accessor })).toContainText("working");
    await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "live");
    await expect(page.getByTestId("live-indicator")).toHaveText("Live");
    // Survives a client-side re-render, not a reload.
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  }
  const row = viewer.getByTestId("handle-row").filter({ hasText: accessor });

  const started = Date.now();
  expect(applyStatus(accessor, "input_required")).toBe("transition");
  // The inventory has no timer of its own: only the live stream can bring this in.
  await expect(row).toContainText("input required", { timeout: 3_000 });
  const seenAfterMs = Date.now() - started;
  await expect(reviewer.getByTestId("handle-row").filter({ hasText: accessor })).toContainText("input required", { timeout: 3_000 });

  const revoked = await reviewer.request.post(`${baseUrl()}/api/v1/handles/${accessor}/revoke`, { data: { reason: "Seen live in the other browser" } });
  expect(revoked.status(), await revoked.text()).toBe(200);
  await expect(row).toContainText("revoked", { timeout: 3_000 });

  for (const page of [reviewer, viewer]) expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  test.info().annotations.push({ type: "latency", description: `status change visible in the second browser after ${seenAfterMs} ms (incl. the tsx start-up)` });
});

test("the Servers page follows a health transition live", async ({ browser }) => {
  const { slug, serverId } = await seed();
  const page = await signedIn(browser, "support");
  await page.goto(`${baseUrl()}/servers/${serverId}`);
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "live");
  await page.goto(`${baseUrl()}/servers`);
  const row = page.getByTestId("server-row").and(page.locator(`[data-slug="${slug}"]`));
  await expect(row).toContainText("not checked yet");
  await query(`UPDATE mcp_server SET health = 'down', consecutive_failures = 3 WHERE id = $1::uuid`, [serverId]);
  await expect(row).toContainText("down", { timeout: 3_000 });
});

test("a change committed after the page was rendered but before its live stream opened still reaches the page", async ({ browser }) => {
  const { slug, serverId } = await seed();
  const page = await signedIn(browser, "support");
  // The page's stream is let through only once the change has committed and gone out to whoever
  // listened then: no frame of that stream will carry it, and the page was rendered before it.
  let held = false;
  await page.route("**/api/live**", async (route) => {
    if (!held) {
      held = true;
      await query(`UPDATE mcp_server SET health = 'down', consecutive_failures = 3 WHERE id = $1::uuid`, [serverId]);
      await new Promise((r) => setTimeout(r, 500));
    }
    await route.continue();
  });
  await page.goto(`${baseUrl()}/servers`);
  const row = page.getByTestId("server-row").and(page.locator(`[data-slug="${slug}"]`));
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "live");
  expect(held).toBe(true);
  await expect(row).toContainText("down", { timeout: 5_000 });
});

test("GET /api/live is 401 without a session, and an event stream with one", async ({ browser, playwright }) => {
  const anonymous = await playwright.request.newContext();
  const refused = await anonymous.get(`${baseUrl()}/api/live`);
  expect(refused.status()).toBe(401);
  expect(await refused.json()).toMatchObject({ error: { code: "UNAUTHENTICATED" } });
  await anonymous.dispose();

  const page = await signedIn(browser, "auditor");
  const first = await page.evaluate(async () => {
    const response = await fetch("/api/live");
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    await reader.cancel();
    return { status: response.status, type: response.headers.get("content-type"), text: new TextDecoder().decode(value) };
  });
  expect(first.status).toBe(200);
  expect(first.type).toBe("text/event-stream; charset=utf-8");
  expect(first.text).toMatch(/^retry: 3000\n\n/);
});
