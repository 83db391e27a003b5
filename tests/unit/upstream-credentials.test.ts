import { describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors";
import { classifyProbeFailure, type TProbeObservation } from "@/lib/servers/classify-probe-failure";
import { resolveCredentials } from "@/lib/servers/resolve-credentials";
import { ZOAuthCredentialsInput, ZRegisterServerInput, ZUpdateServerInput } from "@/lib/servers/schemas";
import type { TOAuthClientCredentials } from "@/lib/servers/server-credentials";

const URL_A = "https://mcp.example/mcp";
const STORED: TOAuthClientCredentials = {
  type: "oauth_client_credentials",
  tokenUrl: "https://idp.example/oauth/token",
  clientId: "tether",
  clientSecret: "stored-secret",
  scope: "mcp:tools",
  resource: URL_A,
  audience: null,
};

function issues(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof AppError) return (err.issues ?? []).map((i) => i.path);
    throw err;
  }
  throw new Error("expected an AppError");
}

describe("resolveCredentials", () => {
  it("keeps what is stored when nothing is given, and names no change", () => {
    expect(resolveCredentials({ stored: STORED, currentUrl: URL_A, nextUrl: URL_A })).toEqual({ change: "keep", next: STORED, changes: [] });
  });

  it("merges an OAuth patch into the stored settings, keeps the secret, and names the settings that changed", () => {
    const r = resolveCredentials({ stored: STORED, currentUrl: URL_A, nextUrl: URL_A, oauth: { scope: "mcp:tools mcp:tasks", audience: "api" } });
    expect(r).toEqual({ change: "set", next: { ...STORED, scope: "mcp:tools mcp:tasks", audience: "api" }, changes: ["credentials", "credentials.scope", "credentials.audience"] });
    expect(resolveCredentials({ stored: STORED, currentUrl: URL_A, nextUrl: URL_A, oauth: { resource: null } }).next).toMatchObject({ resource: null, clientSecret: "stored-secret" });
    // The same values again: nothing to save.
    expect(resolveCredentials({ stored: STORED, currentUrl: URL_A, nextUrl: URL_A, oauth: { clientSecret: "stored-secret", scope: "mcp:tools" } }).change).toBe("keep");
  });

  it("needs every OAuth field when none are stored (a new server, or a switch from a bearer token)", () => {
    expect(issues(() => resolveCredentials({ stored: null, currentUrl: null, nextUrl: URL_A, oauth: { clientId: "x" } }))).toEqual(["oauth.tokenUrl", "oauth.clientSecret"]);
    expect(issues(() => resolveCredentials({ stored: { type: "bearer", token: "t" }, currentUrl: URL_A, nextUrl: URL_A, oauth: { tokenUrl: STORED.tokenUrl, clientId: "x" } }))).toEqual(["oauth.clientSecret"]);
    const complete = { tokenUrl: STORED.tokenUrl, clientId: "tether", clientSecret: "new" };
    expect(resolveCredentials({ stored: "unreadable", currentUrl: URL_A, nextUrl: URL_A, oauth: complete }).changes).toEqual(["credentials", "credentials.type"]);
  });

  it("never sends a stored secret to a host it was not entered for", () => {
    // The token endpoint moves: the client secret must be entered again.
    expect(issues(() => resolveCredentials({ stored: STORED, currentUrl: URL_A, nextUrl: URL_A, oauth: { tokenUrl: "https://evil.example/token" } }))).toEqual(["oauth.clientSecret"]);
    expect(resolveCredentials({ stored: STORED, currentUrl: URL_A, nextUrl: URL_A, oauth: { tokenUrl: "https://idp.example/v2/token" } }).change).toBe("set"); // same origin
    // The server moves: an access token (or the bearer token) would go there.
    expect(issues(() => resolveCredentials({ stored: STORED, currentUrl: URL_A, nextUrl: "https://other.example/mcp" }))).toEqual(["oauth.clientSecret"]);
    expect(issues(() => resolveCredentials({ stored: STORED, currentUrl: URL_A, nextUrl: "https://other.example/mcp", oauth: { scope: "x" } }))).toEqual(["oauth.clientSecret"]);
    expect(issues(() => resolveCredentials({ stored: { type: "bearer", token: "t" }, currentUrl: URL_A, nextUrl: "https://other.example/mcp" }))).toEqual(["bearerToken"]);
    expect(resolveCredentials({ stored: STORED, currentUrl: URL_A, nextUrl: "https://other.example/mcp", oauth: { clientSecret: "again" } }).change).toBe("set");
    expect(resolveCredentials({ stored: STORED, currentUrl: URL_A, nextUrl: "https://other.example/mcp", clear: true }).change).toBe("clear");
  });
});

describe("OAuth input schemas", () => {
  it("normalises the scope, treats empty optional settings as none, and refuses credentials in the token URL", () => {
    const ok = ZOAuthCredentialsInput.parse({ tokenUrl: "https://idp.example/token", clientId: " tether ", clientSecret: "s", scope: " a  b ", resource: "", audience: null });
    expect(ok).toEqual({ tokenUrl: "https://idp.example/token", clientId: "tether", clientSecret: "s", scope: "a b", resource: null, audience: null });
    expect(ZOAuthCredentialsInput.safeParse({ tokenUrl: "https://u:p@idp.example/token", clientId: "t", clientSecret: "s" }).success).toBe(false);
    expect(ZOAuthCredentialsInput.safeParse({ tokenUrl: "https://idp.example/token#x", clientId: "t", clientSecret: "s" }).success).toBe(false);
    expect(ZOAuthCredentialsInput.safeParse({ tokenUrl: "https://idp.example/token", clientId: "t", clientSecret: "s", resource: "https://mcp.example/#f" }).success).toBe(false);
  });

  it("allows one kind of credentials at a time", () => {
    const oauth = { tokenUrl: "https://idp.example/token", clientId: "t", clientSecret: "s" };
    expect(ZRegisterServerInput.safeParse({ name: "n", slug: "s", url: URL_A, bearerToken: "b", oauth }).success).toBe(false);
    expect(ZRegisterServerInput.safeParse({ name: "n", slug: "s", url: URL_A, oauth }).success).toBe(true);
    const id = "00000000-0000-4000-8000-000000000000";
    expect(ZUpdateServerInput.safeParse({ serverId: id, oauth: { scope: "x" }, clearCredentials: true }).success).toBe(false);
    expect(ZUpdateServerInput.safeParse({ serverId: id, oauth: { scope: "x" } }).success).toBe(true);
  });
});

describe("classifyProbeFailure with OAuth credentials", () => {
  const base: TProbeObservation = {
    url: URL_A,
    timeoutMs: 5000,
    response: null,
    networkError: undefined,
    timedOut: false,
    badMessages: 0,
    secret: "client-secret-value",
    credentials: "oauth_client_credentials",
    otherSecrets: ["eyJaccess.token.value"],
  };

  it("says the access token was refused, not the bearer token", () => {
    const failure = classifyProbeFailure(new Error("401"), { ...base, response: { status: 401, contentType: "application/json" } });
    expect(failure).toEqual({ kind: "credentials_refused", message: "mcp.example refused the credentials (HTTP 401). It refused the OAuth access token: check the client's scope, resource or audience at the provider." });
  });

  it("cuts the client secret and the access token out of quoted upstream text", () => {
    const err = Object.assign(new Error("MCP error -32600: bad eyJaccess.token.value and client-secret-value"), { name: "McpError", code: -32600 });
    const failure = classifyProbeFailure(err, { ...base, response: { status: 200, contentType: "application/json" } });
    expect(failure.message).toBe("mcp.example refused the MCP handshake: bad [redacted] and [redacted] (JSON-RPC -32600).");
  });
});
