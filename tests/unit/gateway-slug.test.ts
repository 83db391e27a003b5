import { describe, expect, it } from "vitest";
import { gatewaySlugOf } from "@/lib/gateway/serve-node-request";

describe("gatewaySlugOf (which requests scripts/serve.ts hands to the gateway)", () => {
  it("takes /mcp/{slug} with or without a trailing slash or query", () => {
    expect(gatewaySlugOf("/mcp/demo")).toBe("demo");
    expect(gatewaySlugOf("/mcp/demo/")).toBe("demo");
    expect(gatewaySlugOf("/mcp/demo?x=1")).toBe("demo");
    expect(gatewaySlugOf("/mcp/")).toBe("");
  });

  it("leaves every other path to Next.js", () => {
    for (const url of [undefined, "/", "/mcp", "/mcpx/demo", "/api/health", "/handles", "/mcp/demo/extra", "/MCP/demo"]) {
      expect(gatewaySlugOf(url)).toBeNull();
    }
  });

  it("decodes the slug, and turns an undecodable one into a slug no server has", () => {
    expect(gatewaySlugOf("/mcp/de%6Do")).toBe("demo");
    expect(gatewaySlugOf("/mcp/%E0%A4%A")).toBe("\u0000");
  });
});
