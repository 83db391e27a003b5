import { describe, expect, it } from "vitest";
import { ZEnv } from "@/lib/env";
import { parseBearerToken } from "@/lib/gateway/authenticate-agent";
import { getAgentOidcConfig } from "@/lib/gateway/verify-agent-jwt";

describe("parseBearerToken (RFC 6750 §2.1)", () => {
  it.each([
    ["Bearer abc.def.ghi", "abc.def.ghi"],
    ["bearer abc", "abc"],
    ["BEARER abc", "abc"],
    ["Bearer    abc", "abc"],
    ["  Bearer abc  ", "abc"],
    ["Bearer tth_0123abcd_xyz-_", "tth_0123abcd_xyz-_"],
    ["Bearer a+b/c~d==", "a+b/c~d=="],
  ])("reads %j", (header, token) => expect(parseBearerToken(header)).toBe(token));

  it.each([null, undefined, "", "Bearer", "Bearer ", "Bearerabc", "Bearer\tabc", "Basic abc", "Token abc", "Bearer a b", "Bearer a=b", "Bearer abc\n", "Bearer ab\u00e9", `Bearer ${"a".repeat(17_000)}`])(
    "refuses %j",
    (header) => expect(parseBearerToken(header)).toBeNull(),
  );
});

describe("getAgentOidcConfig", () => {
  it("is null without an issuer", () => {
    expect(getAgentOidcConfig(ZEnv.parse({}))).toBeNull();
  });

  it("defaults the audience to the public URL + /mcp, else http://HOST:PORT/mcp", () => {
    const issuer = "https://idp.example.test";
    expect(getAgentOidcConfig(ZEnv.parse({ TETHER_AGENT_OIDC_ISSUER: issuer, TETHER_PUBLIC_URL: "https://tether.example.test/" }))).toEqual({
      issuer,
      audience: "https://tether.example.test/mcp",
      jwksUrl: undefined,
    });
    expect(getAgentOidcConfig(ZEnv.parse({ TETHER_AGENT_OIDC_ISSUER: issuer, HOST: "10.0.0.5", PORT: "8080" }))?.audience).toBe("http://10.0.0.5:8080/mcp");
    expect(
      getAgentOidcConfig(ZEnv.parse({ TETHER_AGENT_OIDC_ISSUER: issuer, TETHER_AGENT_OIDC_AUDIENCE: "api://tether", TETHER_AGENT_OIDC_JWKS_URL: `${issuer}/keys` })),
    ).toEqual({ issuer, audience: "api://tether", jwksUrl: `${issuer}/keys` });
  });
});
