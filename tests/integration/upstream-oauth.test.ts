// Upstream credentials as OAuth 2.0 client credentials, against a real authorization server
// (oidc-provider, client_credentials grant, JWT access tokens for the upstream's resource) and
// Tether's demo upstream requiring such a token (verified against the provider's JWKS with jose):
// registering checks the connection with a fresh token; the gateway, the status poller and the
// health checks share one cached token per server (token requests are counted at the provider);
// an expiring token is refreshed before it runs out; an upstream 401 drops the token and retries
// once; a refused, unreachable or garbled token endpoint is named exactly; and the client secret
// appears in no response, page DTO, audit row or log line.
import { randomBytes, randomUUID } from "node:crypto";
import type { JWTPayload } from "jose";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { GET as getRoute, PATCH as patchRoute } from "@/app/api/v1/servers/[id]/route";
import { POST as registerRoute } from "@/app/api/v1/servers/route";
import { createApiKey } from "@/lib/api-keys/create-api-key";
import { systemActor } from "@/lib/auth/actor";
import { decryptSecret } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { startDemoUpstream, type TDemoUpstream } from "@/lib/demo-upstream/server";
import { handleTokenHash } from "@/lib/gateway/handle-token";
import { serverCredentialsContext } from "@/lib/gateway/upstream";
import { syncHandleStatuses } from "@/lib/handles/sync-handle-statuses";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { probeServer } from "@/lib/servers/probe-server";
import { registerServer } from "@/lib/servers/register-server";
import { runHealthChecks } from "@/lib/servers/run-health-checks";
import { setServerEnabled } from "@/lib/servers/set-server-enabled";
import { updateServer } from "@/lib/servers/update-server";
import { actorFor, createPrincipal, userActor } from "../factories/principals";
import { auditEventsFor, auditEventsOfRequest } from "./support/audit";
import { setUpEnv, setUpTestSecrets } from "./support/env";
import { expectAppError, issuePaths } from "./support/errors";
import { captureLogs, connectAgent, createAgent, createTask, gatewayFetch, GATEWAY_ORIGIN, type TAgent, type TConnectedAgent } from "./support/gateway";
import { setUpOwnDatabase } from "./support/own-database";
import { startPlainHttpServer, unusedPort, type TFixture } from "./support/upstream-fixtures";
import { startUpstreamIdp, type TOAuthClient, type TUpstreamIdp } from "./support/upstream-oauth-provider";

const run = randomUUID().slice(0, 8);
/** The resource the upstream's tokens are for (RFC 8707), and so their `aud`. */
const RESOURCE = "https://upstream.example.test/mcp";
const secret = () => `cs-${randomBytes(24).toString("base64url")}`;
const CLIENT: TOAuthClient = { clientId: `tether-${run}`, clientSecret: secret() };
const SHORT: TOAuthClient = { clientId: `tether-short-${run}`, clientSecret: secret(), ttlSeconds: 2 };
const OTHER: TOAuthClient = { clientId: `tether-other-${run}`, clientSecret: secret() };
const SECRETS = [CLIENT, SHORT, OTHER].map((c) => c.clientSecret);

let idp: TUpstreamIdp;
let upstream: TDemoUpstream;
let html: TFixture;
let agent: TAgent;
const open: TConnectedAgent[] = [];

// What the upstream saw: tokens it accepted and refused; tests make it refuse some.
const refusedJti = new Set<string>();
let refuseAll = false;
let lastAccepted: JWTPayload | null = null;
let refusals = 0;

setUpOwnDatabase();
setUpTestSecrets();
setUpEnv(() => ({ TETHER_PUBLIC_URL: "https://tether.example", TETHER_SERVER_PROBE_TIMEOUT_MS: "3000" }));

beforeAll(async () => {
  await ensureDefaultPolicy(getPrisma(), systemActor("test", `oauth-test-${randomUUID()}`));
  idp = await startUpstreamIdp({ audience: RESOURCE, clients: [CLIENT, SHORT, OTHER] });
  upstream = await startDemoUpstream({
    port: 0,
    defaultDurationSeconds: 1,
    log: () => undefined,
    accessToken: {
      issuer: idp.issuer,
      audience: RESOURCE,
      jwksUrl: idp.jwksUrl,
      // The scope Tether asks for must be in the token, so a lost scope parameter fails the test.
      isAccepted: (claims) => {
        const ok = !refuseAll && !refusedJti.has(String(claims.jti)) && String(claims.scope ?? "").split(" ").includes("mcp:tools");
        if (ok) lastAccepted = claims;
        else refusals += 1;
        return ok;
      },
    },
  });
  html = await startPlainHttpServer();
  agent = await createAgent(actorFor(await createPrincipal(getPrisma(), { role: "admin" })));
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(open.map((c) => c.client.close()));
  await Promise.allSettled([upstream?.close(), idp?.close(), html?.close()]);
});

// ---- helpers ------------------------------------------------------------------------------

const slug = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;

function oauth(client: TOAuthClient, overrides: Record<string, unknown> = {}) {
  return { tokenUrl: idp.tokenUrl, clientId: client.clientId, clientSecret: client.clientSecret, scope: "mcp:tools", resource: RESOURCE, ...overrides };
}

async function registered(client: TOAuthClient, label = "oauth") {
  const { server } = await registerServer({ actor: userActor("admin"), data: { name: `OAuth ${label}`, slug: slug(label), url: upstream.url, oauth: oauth(client) } });
  return server;
}

async function connected(serverSlug: string) {
  const c = await connectAgent(agent, serverSlug);
  open.push(c);
  return c.client;
}

/** Connects, and also answers the status of the client's GET stream once the gateway has answered it (after the gateway opened it upstream). */
async function connectedWithStream(serverSlug: string) {
  let streamOpened!: (status: number) => void;
  const stream = new Promise<number>((resolve) => (streamOpened = resolve));
  const c = await connectAgent(agent, serverSlug, undefined, {
    fetch: async (input, init) => {
      const response = await gatewayFetch(input, init);
      if (init?.method === "GET") streamOpened(response.status);
      return response;
    },
  });
  open.push(c);
  return { client: c.client, stream };
}

function asText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

function expectNoSecret(text: string) {
  for (const s of SECRETS) expect(text).not.toContain(s);
}

// ---- registry --------------------------------------------------------------------------------

describe("registering with OAuth client credentials", () => {
  it("checks the connection with a token from the provider, stores the credentials encrypted, shows only the settings that are not secret, audits the kind", async () => {
    const actor = userActor("admin");
    const s = slug("oauth");
    const { server, check } = await registerServer({ actor, data: { name: "OAuth upstream", slug: s, url: upstream.url, oauth: oauth(CLIENT, { scope: "  mcp:tools   mcp:tasks " }) } });

    expect(check).toMatchObject({ ok: true, problem: null });
    expect(server).toMatchObject({
      enabled: true,
      credentials: "oauth_client_credentials",
      oauth: { tokenUrl: idp.tokenUrl, clientId: CLIENT.clientId, scope: "mcp:tools mcp:tasks", resource: RESOURCE, audience: null },
      taskWires: ["core_2025_11_25"],
      health: { status: expect.stringMatching(/^(up|degraded)$/) }, // degraded: merely slow on a busy machine
    });
    // client_secret_basic: the secret travels in the Authorization header, not in the form.
    expect(idp.tokenRequests.at(-1)).toEqual({
      clientId: CLIENT.clientId,
      status: 200,
      params: { grant_type: "client_credentials", scope: "mcp:tools mcp:tasks", resource: RESOURCE },
    });

    const row = await getPrisma().mcpServer.findUniqueOrThrow({ where: { id: server.id } });
    expect(JSON.parse(decryptSecret(row.credentialsEnc!, serverCredentialsContext(s)))).toMatchObject({ type: "oauth_client_credentials", clientSecret: CLIENT.clientSecret });
    expectNoSecret(row.credentialsEnc!);
    expectNoSecret(asText(server));

    const events = await auditEventsFor(getPrisma(), server.id);
    expect(events[0]).toMatchObject({ action: "server.registered", payload: { slug: s, credentials: "oauth_client_credentials", enabled: true } });
    expectNoSecret(asText(events));
  });

  it("refuses a bearer token and OAuth credentials together, and names each missing or malformed OAuth field", async () => {
    const both = await expectAppError(
      registerServer({ actor: userActor("admin"), data: { name: "x", slug: slug("x"), url: upstream.url, bearerToken: "abc", oauth: oauth(CLIENT) } }),
      "INVALID_INPUT",
    );
    expect(issuePaths(both)).toEqual(["oauth"]);
    const bad = await expectAppError(
      registerServer({
        actor: userActor("admin"),
        data: { name: "x", slug: slug("x"), url: upstream.url, oauth: { tokenUrl: "ftp://idp/token", clientId: "", scope: 'a "b"', resource: "not a uri", extra: 1 } },
      }),
      "INVALID_INPUT",
    );
    expect(issuePaths(bad)).toEqual(["oauth", "oauth.clientId", "oauth.clientSecret", "oauth.resource", "oauth.scope", "oauth.tokenUrl"]);
  });

  it("says exactly why the token endpoint failed: a wrong secret, nothing listening, not an OAuth answer; never the secret", async () => {
    const wrong = "wrong-secret-" + randomBytes(12).toString("hex");
    const refused = await expectAppError(
      registerServer({ actor: userActor("admin"), data: { name: "x", slug: slug("x"), url: upstream.url, oauth: oauth(CLIENT, { clientSecret: wrong }) } }),
      "INVALID_INPUT",
    );
    expect(refused.message).toMatch(/^OAuth token request failed: OAuth token endpoint refused the client: invalid_client\b/);
    expect(refused.message).not.toContain(wrong);
    expect(issuePaths(refused)).toEqual(["oauth", "probe"]);
    expect(refused.details?.probe).toMatchObject({ ok: false, problem: { kind: "oauth_token_error" } });
    expect(asText(refused.details)).not.toContain(wrong);

    const port = await unusedPort();
    const unreachable = await probeServer({ actor: userActor("admin"), data: { url: upstream.url, oauth: oauth(CLIENT, { tokenUrl: `http://127.0.0.1:${port}/token` }) } });
    expect(unreachable).toMatchObject({ ok: false, problem: { kind: "oauth_token_error", message: `Could not reach the OAuth token endpoint at 127.0.0.1:${port} (ECONNREFUSED).` } });

    const garbled = await probeServer({ actor: userActor("admin"), data: { url: upstream.url, oauth: oauth(CLIENT, { tokenUrl: `${html.url}/token` }) } });
    expect(garbled.problem).toEqual({ kind: "oauth_token_error", message: `The OAuth token endpoint at 127.0.0.1:${html.port} answered with text/html, not with a JSON token response.` });

    // A token for another resource: the provider refuses the request itself (invalid_target).
    const target = await probeServer({ actor: userActor("admin"), data: { url: upstream.url, oauth: oauth(CLIENT, { resource: "https://elsewhere.example/mcp" }) } });
    expect(target.problem?.message).toMatch(/^OAuth token endpoint refused the token request: invalid_target/);

    // The provider issues a token, but without the scope the upstream needs: the upstream refuses it (one fresh token is tried).
    const before = idp.issuedTo(CLIENT.clientId);
    const noScope = await probeServer({ actor: userActor("admin"), data: { url: upstream.url, oauth: oauth(CLIENT, { scope: null }) } });
    expect(noScope.problem).toMatchObject({ kind: "credentials_refused", message: expect.stringContaining("It refused the OAuth access token") });
    expect(idp.issuedTo(CLIENT.clientId) - before).toBe(2);
  });

  it("edits OAuth settings: the secret is kept unless given, the audit names the settings that changed, a new host needs the secret again", async () => {
    const server = await registered(CLIENT, "edit");
    const same = userActor("admin");
    const { check: unchanged } = await updateServer({ actor: same, data: { serverId: server.id, oauth: { tokenUrl: idp.tokenUrl, clientId: CLIENT.clientId, scope: "mcp:tools", resource: RESOURCE } } });
    expect(unchanged).toBeNull(); // nothing changed: no check, no event
    expect(await auditEventsOfRequest(getPrisma(), same.request.requestId)).toEqual([]);

    const actor = userActor("admin");
    const { server: edited, check } = await updateServer({ actor, data: { serverId: server.id, oauth: { scope: "mcp:tools mcp:tasks", audience: "upstream-api" } } });
    expect(check?.ok).toBe(true);
    expect(edited.oauth).toEqual({ tokenUrl: idp.tokenUrl, clientId: CLIENT.clientId, scope: "mcp:tools mcp:tasks", resource: RESOURCE, audience: "upstream-api" });
    expect(idp.tokenRequests.at(-1)?.params).toMatchObject({ scope: "mcp:tools mcp:tasks", audience: "upstream-api" });
    const [event] = await auditEventsOfRequest(getPrisma(), actor.request.requestId);
    expect(event).toMatchObject({ action: "server.updated", payload: { changes: ["credentials", "credentials.scope", "credentials.audience"], problem: null } });

    // The token endpoint on another origin (the same provider under another name): only with the secret entered again.
    const otherHost = idp.tokenUrl.replace("127.0.0.1", "localhost");
    const moved = await expectAppError(updateServer({ actor: userActor("admin"), data: { serverId: server.id, oauth: { tokenUrl: otherHost } } }), "INVALID_INPUT");
    expect(issuePaths(moved)).toEqual(["oauth.clientSecret"]);
    const reentered = userActor("admin");
    await updateServer({ actor: reentered, data: { serverId: server.id, oauth: { tokenUrl: otherHost, clientSecret: CLIENT.clientSecret } } });
    const [event2] = await auditEventsOfRequest(getPrisma(), reentered.request.requestId);
    expect(event2!.payload).toMatchObject({ changes: ["credentials", "credentials.tokenUrl"] });
    // The server URL on another origin: an access token would go there, so the secret is needed again too.
    const elsewhere = await expectAppError(updateServer({ actor: userActor("admin"), data: { serverId: server.id, url: upstream.url.replace("127.0.0.1", "localhost") } }), "INVALID_INPUT");
    expect(issuePaths(elsewhere)).toEqual(["oauth.clientSecret"]);

    // Switching to a bearer token and back: back needs every OAuth field again.
    const toBearer = userActor("admin");
    await updateServer({ actor: toBearer, data: { serverId: server.id, bearerToken: "not-accepted-by-this-upstream", force: true } });
    expect((await auditEventsOfRequest(getPrisma(), toBearer.request.requestId))[0]!.payload).toMatchObject({ changes: ["credentials", "enabled"], problem: "credentials_refused" });
    const incomplete = await expectAppError(updateServer({ actor: userActor("admin"), data: { serverId: server.id, oauth: { tokenUrl: idp.tokenUrl, clientId: CLIENT.clientId } } }), "INVALID_INPUT");
    expect(issuePaths(incomplete)).toEqual(["oauth.clientSecret"]);
    const back = userActor("admin");
    const { server: restored } = await updateServer({ actor: back, data: { serverId: server.id, oauth: oauth(CLIENT) } });
    expect(restored).toMatchObject({ credentials: "oauth_client_credentials", health: { lastErrorKind: null } });
    expect((await auditEventsOfRequest(getPrisma(), back.request.requestId))[0]!.payload).toMatchObject({ changes: ["credentials", "credentials.type"] });

    expectNoSecret(asText(await auditEventsFor(getPrisma(), server.id)));
  });

  it("works through the REST API: register with oauth, read it back without the secret, patch a setting", async () => {
    const account = await createPrincipal(getPrisma(), { kind: "service", email: null, role: "admin" });
    const key = (await createApiKey({ actor: userActor("admin"), data: { principalId: account.id, name: "oauth test" } })).key;
    const request = (path: string, init: { method?: string; body?: unknown } = {}) =>
      new NextRequest(`http://tether.test${path}`, {
        method: init.method ?? "GET",
        headers: { authorization: `Bearer ${key}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    const s = slug("rest");
    const created = await registerRoute(request("/api/v1/servers", { method: "POST", body: { name: "REST OAuth", slug: s, url: upstream.url, oauth: oauth(OTHER) } }), { params: Promise.resolve({}) });
    const createdText = await created.text();
    expect(created.status, createdText).toBe(201);
    expectNoSecret(createdText);
    const { server } = JSON.parse(createdText) as { server: { id: string } };
    const params = { params: Promise.resolve({ id: server.id }) };
    const read = await getRoute(request(`/api/v1/servers/${server.id}`), params);
    const readText = await read.text();
    expect(JSON.parse(readText)).toMatchObject({ credentials: "oauth_client_credentials", oauth: { clientId: OTHER.clientId, tokenUrl: idp.tokenUrl } });
    expectNoSecret(readText);
    const refused = await patchRoute(request(`/api/v1/servers/${server.id}`, { method: "PATCH", body: { oauth: { clientSecret: "wrong-secret-value" } } }), params);
    expect(refused.status).toBe(422);
    const body = (await refused.json()) as { error: { probe: { problem: { kind: string; message: string } } } };
    expect(body.error.probe.problem).toMatchObject({ kind: "oauth_token_error", message: expect.stringMatching(/refused the client: invalid_client/) });
    expect(JSON.stringify(body)).not.toContain("wrong-secret-value");
  });
});

// ---- the gateway, the poller and the health checks ---------------------------------------------

describe("calling an upstream with OAuth client credentials", () => {
  it("shares one cached token between the gateway, the status poller and the health checks", async () => {
    const server = await registered(CLIENT, "cached");
    const before = idp.issuedTo(CLIENT.clientId);
    const client = await connected(server.slug);
    await client.listTools();
    // Long enough to be working still at every step below, however slow the machine.
    const task = await createTask(client, "long_task", { seconds: 30 });
    expect((await client.experimental.tasks.getTask(task.taskId)).status).toBe("working");
    // The poller polls the task at the upstream, with the server's token.
    const handle = () => getPrisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(task.taskId) } });
    await getPrisma().handle.updateMany({ where: { serverId: server.id }, data: { nextPollAt: null, pollLeaseUntil: null } });
    const round = await syncHandleStatuses();
    expect(round.polled).toBeGreaterThanOrEqual(1);
    expect(round.failures).toBe(0);
    expect(await handle()).toMatchObject({ status: "working", lastPolledAt: expect.any(Date), pollFailures: 0 });
    // So does a health check, of this server only: another OAuth server of the same client that
    // came due would fetch a token of its own.
    await getPrisma().$executeRaw`UPDATE mcp_server SET next_health_check_at = now() + interval '1 hour' WHERE id <> ${server.id}::uuid`;
    await getPrisma().mcpServer.update({ where: { id: server.id }, data: { nextHealthCheckAt: null } });
    expect(await runHealthChecks()).toBe(1);
    expect(await getPrisma().mcpServer.findUniqueOrThrow({ where: { id: server.id } })).toMatchObject({ health: "up", lastErrorKind: null });

    expect(idp.issuedTo(CLIENT.clientId) - before).toBe(1);
  });

  it("refreshes a token shortly before it expires, without a refused call", async () => {
    const server = await registered(SHORT, "short");
    const before = idp.issuedTo(SHORT.clientId);
    const refusedBefore = refusals;
    // One clock for Tether's token cache, the provider (iat, exp) and the upstream (jose checks exp):
    // all three run in this process and read Date, so moving it is time passing for each of them,
    // and however slow the machine, no call below is made later than the test says. It starts on a
    // whole second, so the token's exp (whole seconds) is exactly 2 s after it was issued.
    const t0 = Math.ceil(Date.now() / 1000) * 1000;
    vi.useFakeTimers({ toFake: ["Date"], now: t0 });
    try {
      const client = await connected(server.slug);
      await client.listTools();
      await client.listTools();
      expect(idp.issuedTo(SHORT.clientId) - before).toBe(1);
      vi.setSystemTime(t0 + 900); // before the refresh point: the cached token still serves
      await client.listTools();
      expect(idp.issuedTo(SHORT.clientId) - before).toBe(1);
      vi.setSystemTime(t0 + 1_500); // the token lives 2 s; Tether renews it a second early
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain("long_task");
      expect(idp.issuedTo(SHORT.clientId) - before).toBe(2);
      expect(refusals).toBe(refusedBefore);
    } finally {
      vi.useRealTimers();
    }
  });

  it("on an upstream 401 drops the token and retries once with a fresh one; a second 401 is the agent's error, not a loop", async () => {
    const server = await registered(CLIENT, "retry");
    const { client, stream } = await connectedWithStream(server.slug);
    await client.listTools();
    // The agent's GET stream is open upstream (with the cached token): it calls no more.
    expect(await stream).toBe(200);
    const revoked = String(lastAccepted!.jti);
    refusedJti.add(revoked); // the upstream no longer accepts the cached token

    let before = idp.issuedTo(CLIENT.clientId);
    let refusedBefore = refusals;
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    expect(refusals - refusedBefore).toBe(1);
    expect(idp.issuedTo(CLIENT.clientId) - before).toBe(1);
    expect(String(lastAccepted!.jti)).not.toBe(revoked);

    refuseAll = true;
    try {
      before = idp.issuedTo(CLIENT.clientId);
      refusedBefore = refusals;
      const err = await client.listTools().catch((e: unknown) => e);
      expect(String((err as Error).message)).toMatch(/refused Tether's credentials/);
      expect(refusals - refusedBefore).toBe(2);
      expect(idp.issuedTo(CLIENT.clientId) - before).toBe(1);
    } finally {
      refuseAll = false;
    }
  });

  it("answers the agent with a clear JSON-RPC error when the token endpoint refuses the client, and leaks the secret nowhere", async () => {
    const wrong = `wrong-${randomBytes(16).toString("hex")}`;
    SECRETS.push(wrong);
    const admin = userActor("admin");
    const { server } = await registerServer({ actor: admin, data: { name: "Bad secret", slug: slug("bad"), url: upstream.url, oauth: oauth(CLIENT, { clientSecret: wrong }), force: true } });
    expect(server).toMatchObject({ enabled: false, health: { lastErrorKind: "oauth_token_error" } });
    await setServerEnabled({ actor: admin, data: { serverId: server.id, enabled: true, force: true } });

    const logs = captureLogs();
    try {
      const res = await gatewayFetch(`${GATEWAY_ORIGIN}/mcp/${server.slug}`, {
        method: "POST",
        headers: { authorization: `Bearer ${agent.apiKey}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } }),
      });
      const text = await res.text();
      expect(res.status).toBe(502);
      expect(JSON.parse(text)).toMatchObject({
        jsonrpc: "2.0",
        error: { message: expect.stringMatching(/^Tether could not authenticate at the upstream server: OAuth token endpoint refused the client: invalid_client\b/) },
      });
      expectNoSecret(text);
      // A health check names it too.
      await getPrisma().mcpServer.update({ where: { id: server.id }, data: { nextHealthCheckAt: null } });
      await runHealthChecks();
      expect(await getPrisma().mcpServer.findUniqueOrThrow({ where: { id: server.id } })).toMatchObject({ lastErrorKind: "oauth_token_error" });
      expectNoSecret(logs.text());
    } finally {
      logs.restore();
    }
    const leaks = await getPrisma().$queryRawUnsafe<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM audit_event WHERE ${SECRETS.map((_, i) => `payload::text LIKE $${i + 1} OR coalesce(reason, '') LIKE $${i + 1}`).join(" OR ")}`,
      ...SECRETS.map((s) => `%${s}%`),
    );
    expect(leaks[0]!.n).toBe(0);
  });
});
