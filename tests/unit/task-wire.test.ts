import { describe, expect, it } from "vitest";
import { asAgentExtTask, modernRoutingHeaders, modernVersionOf, optsIntoTasksExtension, parseExtCreateTaskResult, parseExtDetailedTask, withModernEnvelope } from "@/lib/gateway/task-wire";

const EXT = "io.modelcontextprotocol/tasks";
const envelope = (version: string, caps: Record<string, unknown> = { extensions: { [EXT]: {} } }) => ({
  "io.modelcontextprotocol/protocolVersion": version,
  "io.modelcontextprotocol/clientInfo": { name: "a", version: "1" },
  "io.modelcontextprotocol/clientCapabilities": caps,
});
const seed = { taskId: "up-1", status: "working", createdAt: "2026-11-26T10:00:00Z", lastUpdatedAt: "2026-11-26T10:00:00Z", ttlMs: 60_000, pollIntervalMs: 500 };

describe("which task wire a request is on", () => {
  it("is the 2026-07-28 wire when the envelope or the header claims that revision or later, or for server/discover", () => {
    expect(modernVersionOf({ method: "tools/call", params: { _meta: envelope("2026-07-28") } }, null)).toBe("2026-07-28");
    expect(modernVersionOf({ method: "tools/call", params: { _meta: envelope("2027-01-01") } }, null)).toBe("2027-01-01");
    expect(modernVersionOf({ method: "tools/list" }, "2026-07-28")).toBe("2026-07-28");
    expect(modernVersionOf({ method: "server/discover" }, null)).toBe("2026-07-28");
  });

  it("is the 2025 wire for older or malformed claims", () => {
    expect(modernVersionOf({ method: "tools/call", params: { _meta: envelope("2025-11-25") } }, "2025-11-25")).toBeNull();
    expect(modernVersionOf({ method: "tools/call", params: { _meta: envelope("9999") } }, "latest")).toBeNull();
    expect(modernVersionOf({ method: "tools/list" }, null)).toBeNull();
  });

  it("sees the agent's opt-in only in the request's own capabilities", () => {
    expect(optsIntoTasksExtension({ params: { _meta: envelope("2026-07-28") } })).toBe(true);
    expect(optsIntoTasksExtension({ params: { _meta: envelope("2026-07-28", {}) } })).toBe(false);
    expect(optsIntoTasksExtension({ params: { task: { ttl: 1000 } } })).toBe(false);
    expect(optsIntoTasksExtension({})).toBe(false);
  });
});

describe("framing Tether's own requests on the extension wire", () => {
  it("adds the envelope with the opt-in, keeping other _meta keys", () => {
    const framed = withModernEnvelope({ taskId: "x", _meta: { trace: "t" } }, "2026-07-28");
    expect(framed).toEqual({ taskId: "x", _meta: { trace: "t", ...envelope("2026-07-28"), "io.modelcontextprotocol/clientInfo": { name: "tether", version: "1" } } });
  });

  it("derives the routing headers from the body as it goes upstream", () => {
    expect(modernRoutingHeaders({ method: "tasks/get", params: { taskId: "up-1" } })).toEqual({ "mcp-method": "tasks/get", "mcp-name": "up-1" });
    expect(modernRoutingHeaders({ method: "tools/call", params: { name: "slow" } })).toEqual({ "mcp-method": "tools/call", "mcp-name": "slow" });
    expect(modernRoutingHeaders({ method: "resources/read", params: { uri: "file:///a" } })).toEqual({ "mcp-method": "resources/read", "mcp-name": "file:///a" });
    // A value a header cannot carry is left out rather than sent mangled.
    expect(modernRoutingHeaders({ method: "tools/call", params: { name: "with space\n" } })).toEqual({ "mcp-method": "tools/call" });
    expect(modernRoutingHeaders("nope")).toEqual({});
  });
});

describe("the extension's task shapes (from @modelcontextprotocol/ext-tasks)", () => {
  it("reads a CreateTaskResult into the common form and refuses malformed ones", () => {
    expect(parseExtCreateTaskResult({ ...seed, resultType: "task" })).toEqual({ taskId: "up-1", status: "working", ttl: 60_000, pollInterval: 500 });
    expect(parseExtCreateTaskResult({ ...seed, resultType: "complete" })).toBeNull();
    expect(parseExtCreateTaskResult({ ...seed, resultType: "task", ttlMs: "soon" })).toBeNull();
    expect(parseExtCreateTaskResult({ task: seed })).toBeNull();
  });

  it("reads every DetailedTask variant and requires the payload its status implies", () => {
    expect(parseExtDetailedTask({ ...seed, status: "completed", result: { content: [] } })?.status).toBe("completed");
    expect(parseExtDetailedTask({ ...seed, status: "failed", error: { code: -32603, message: "x" } })?.status).toBe("failed");
    expect(parseExtDetailedTask({ ...seed, status: "completed" })).toBeNull();
    expect(parseExtDetailedTask({ ...seed, status: "input_required" })).toBeNull();
  });

  it("shows the agent its token and Tether's TTL, passing everything else through", () => {
    const result = { ...seed, resultType: "complete", status: "completed", result: { content: [{ type: "text", text: "ok" }] } };
    expect(asAgentExtTask(result, "tht_token", 900_000)).toEqual({ ...result, taskId: "tht_token", ttlMs: 900_000 });
  });
});
