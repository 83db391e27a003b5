// An admin registers an upstream that takes OAuth access tokens, in the browser: a real
// authorization server (oidc-provider, client_credentials grant) and Tether's demo upstream
// requiring its JWT access tokens run in this process; the console fetches tokens from the one
// and calls the other. The client secret goes in once and never comes back out.
import { randomBytes, randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { startDemoUpstream, type TDemoUpstream } from "../../lib/demo-upstream/server";
import { startUpstreamIdp, type TUpstreamIdp } from "../integration/support/upstream-oauth-provider";
import { baseUrl, query, signIn } from "./support/fixtures";

const RESOURCE = "https://upstream.e2e.test/mcp";
const CLIENT = { clientId: `tether-e2e-${randomUUID().slice(0, 8)}`, clientSecret: `e2e-client-secret-${randomBytes(12).toString("hex")}` };

let idp: TUpstreamIdp;
let upstream: TDemoUpstream;

test.beforeAll(async () => {
  idp = await startUpstreamIdp({ audience: RESOURCE, clients: [CLIENT] });
  upstream = await startDemoUpstream({ port: 0, log: () => undefined, accessToken: { issuer: idp.issuer, audience: RESOURCE, jwksUrl: idp.jwksUrl } });
});

test.afterAll(async () => {
  await Promise.allSettled([upstream?.close(), idp?.close()]);
});

test("an admin registers an upstream with OAuth client credentials, and edits its scope without entering the secret again", async ({ page }) => {
  const name = `OAuth upstream ${randomUUID().slice(0, 6)}`;
  await signIn(page, "admin");
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
  await page.goto(`${baseUrl()}/admin/servers`);

  const form = page.getByRole("form", { name: "Register a server" });
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Server URL").fill(upstream.url);
  await form.getByRole("radio", { name: "OAuth client credentials" }).check();
  // Without the client's settings the form names what is missing.
  await form.getByRole("button", { name: "Check and register" }).click();
  await expect(form.getByText("Enter the client secret.").first()).toBeVisible();

  await form.getByLabel("Token endpoint URL").fill(idp.tokenUrl);
  await form.getByLabel("Client ID").fill(CLIENT.clientId);
  await form.getByLabel("Client secret").fill("a-wrong-secret-value");
  await form.getByLabel("Scope").fill("mcp:tools");
  await form.getByLabel("Resource").fill(RESOURCE);
  await form.getByRole("button", { name: "Check and register" }).click();
  await expect(form.getByTestId("probe-failure")).toContainText("OAuth token request failed: OAuth token endpoint refused the client: invalid_client");

  await form.getByLabel("Client secret").fill(CLIENT.clientSecret);
  await form.getByRole("button", { name: "Check and register" }).click();
  await expect(form.getByRole("status")).toHaveText(`Registered ${name}: core 2025-11-25 task wire.`);

  const card = page.getByRole("region", { name });
  await expect(card).toContainText(`credentials: OAuth client credentials (client ${CLIENT.clientId} at ${new URL(idp.tokenUrl).host}, secret set)`);
  await expect(card.getByText("up", { exact: true })).toBeVisible();

  // Editing: the settings that are not secret are filled in, the secret is not.
  await card.getByRole("button", { name: `Edit ${name}` }).click();
  const edit = page.getByRole("form", { name: `Edit ${name}` });
  await expect(edit.getByLabel("Token endpoint URL")).toHaveValue(idp.tokenUrl);
  await expect(edit.getByLabel("Client ID")).toHaveValue(CLIENT.clientId);
  await expect(edit.getByLabel("Client secret")).toHaveValue("");
  await expect(edit.getByLabel("Client secret")).toHaveAttribute("placeholder", "set — leave empty to keep");
  await edit.getByLabel("Scope").fill("mcp:tools mcp:tasks");
  await edit.getByRole("button", { name: "Check and save" }).click();
  await expect(edit).toHaveCount(0);
  await expect(page.getByRole("region", { name })).toContainText("up");

  expect(await page.content()).not.toContain(CLIENT.clientSecret);
  const [server] = await query<{ id: string }>(`SELECT id FROM mcp_server WHERE name = $1`, [name]);
  const events = await query<{ action: string; payload: { changes?: string[]; credentials?: string } }>(`SELECT action, payload FROM audit_event WHERE target_id = $1 ORDER BY seq`, [server!.id]);
  expect(events.find((e) => e.action === "server.registered")?.payload.credentials).toBe("oauth_client_credentials");
  expect(events.find((e) => e.action === "server.updated")?.payload.changes).toEqual(["credentials", "credentials.scope"]);
  const leaks = await query<{ n: string }>(`SELECT count(*)::text AS n FROM audit_event WHERE payload::text LIKE $1`, [`%${CLIENT.clientSecret}%`]);
  expect(leaks[0]!.n).toBe("0");
  expect(idp.issuedTo(CLIENT.clientId)).toBeGreaterThanOrEqual(2);
});
