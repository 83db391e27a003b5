import { describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { classifyProbeFailure, type TProbeObservation } from "@/lib/servers/classify-probe-failure";
import { DOWN_AFTER_FAILURES, healthAfterCheck, isReachable } from "@/lib/servers/health-status";
import { ZRegisterServerInput, ZSlug } from "@/lib/servers/schemas";
import { detectTaskWires, MAX_RECORDED_TOOLS, summarizeCapabilities, summarizeServerInfo, summarizeTools } from "@/lib/servers/summarize-capabilities";

const base: TProbeObservation = {
  url: "https://mcp.example:8443/mcp",
  timeoutMs: 5000,
  response: null,
  networkError: undefined,
  timedOut: false,
  badMessages: 0,
  secret: "s3cret-token",
};

function fetchFailed(code: string | undefined, message = "socket error"): Error {
  const cause = Object.assign(new Error(message), code ? { code } : {});
  return new TypeError("fetch failed", { cause });
}

describe("classifyProbeFailure", () => {
  it.each([
    ["ECONNREFUSED", "unreachable", /connection refused/],
    ["ENOTFOUND", "unreachable", /DNS/],
    ["EAI_AGAIN", "unreachable", /DNS/],
    ["EHOSTUNREACH", "unreachable", /route/],
    ["ECONNRESET", "unreachable", /closed the connection/],
    ["ERR_SSL_WRONG_VERSION_NUMBER", "tls_error", /does not speak TLS/],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "tls_error", /TLS handshake/],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "tls_error", /TLS handshake/],
    ["UND_ERR_CONNECT_TIMEOUT", "timeout", /5000 ms/],
  ])("names a socket error %s as %s", (code, kind, message) => {
    const err = fetchFailed(code);
    const failure = classifyProbeFailure(err, { ...base, networkError: err });
    expect(failure.kind).toBe(kind);
    expect(failure.message).toMatch(message);
    expect(failure.message).toContain("mcp.example:8443");
  });

  it("names the check's own deadline a timeout, unless the answer was garbage", () => {
    expect(classifyProbeFailure(new Error("aborted"), { ...base, timedOut: true }).kind).toBe("timeout");
    expect(classifyProbeFailure(new Error("aborted"), { ...base, timedOut: true, response: { status: 200, contentType: "text/event-stream" }, badMessages: 2 }).kind).toBe("not_mcp");
  });

  it.each([
    [401, "credentials_refused"],
    [403, "credentials_refused"],
    [404, "not_mcp"],
    [405, "not_mcp"],
    [302, "not_mcp"],
    [500, "server_error"],
    [503, "server_error"],
  ])("names HTTP %i as %s", (status, kind) => {
    expect(classifyProbeFailure(new Error(`Error POSTing to endpoint: body with ${base.secret}`), { ...base, response: { status, contentType: "text/plain" } })).toMatchObject({ kind });
  });

  it("says a token is needed when none was sent, and never repeats the token", () => {
    const none = classifyProbeFailure(new Error("x"), { ...base, secret: null, response: { status: 401, contentType: null } });
    expect(none.message).toMatch(/needs a bearer token/);
    const some = classifyProbeFailure(new Error("x"), { ...base, response: { status: 401, contentType: null } });
    expect(some.message).toMatch(/Check the bearer token/);
    expect(some.message).not.toContain(base.secret);
  });

  it("names a 200 that is not JSON-RPC 'not an MCP server'", () => {
    expect(classifyProbeFailure(new Error("Unexpected content type: text/html"), { ...base, response: { status: 200, contentType: "text/html; charset=utf-8" } })).toMatchObject({ kind: "not_mcp", message: expect.stringMatching(/text\/html/) });
    const zod = new ZodError([]);
    expect(classifyProbeFailure(zod, { ...base, response: { status: 200, contentType: "application/json" } }).kind).toBe("not_mcp");
    expect(classifyProbeFailure(new SyntaxError("Unexpected token <"), { ...base, response: { status: 200, contentType: "application/json" } }).kind).toBe("not_mcp");
  });

  it("names a JSON-RPC refusal of initialize a protocol error, quoting it without the token", () => {
    const err = new McpError(-32600, `Bad Request: token ${base.secret} is not welcome`);
    const failure = classifyProbeFailure(err, { ...base, response: { status: 200, contentType: "application/json" } });
    expect(failure.kind).toBe("protocol_error");
    expect(failure.message).toContain("-32600");
    expect(failure.message).not.toContain(base.secret);
    expect(failure.message).toContain("[redacted]");
  });

  it("names an unsupported protocol version and an SDK request timeout", () => {
    const ok = { ...base, response: { status: 200, contentType: "application/json" } };
    expect(classifyProbeFailure(new Error("Server's protocol version is not supported: 2030-01-01"), ok)).toMatchObject({ kind: "protocol_error", message: expect.stringMatching(/2030-01-01/) });
    expect(classifyProbeFailure(new McpError(-32001, "Request timed out"), ok).kind).toBe("timeout");
  });
});

describe("capabilities, task wires and tools", () => {
  it("records the task capability in detail and the rest as flags", () => {
    const summary = summarizeCapabilities({ tools: {}, logging: {}, tasks: { list: {}, requests: { tools: { call: {} } } } });
    expect(summary).toEqual({ tools: true, resources: false, prompts: false, logging: true, completions: false, tasks: { list: true, cancel: false, toolsCall: true }, extensions: [] });
    expect(detectTaskWires(summary)).toEqual(["core_2025_11_25"]);
  });

  it("detects the 2026-07-28 Tasks extension, alone or next to the core wire", () => {
    const ext = summarizeCapabilities({ extensions: { "io.modelcontextprotocol/tasks": {}, "io.example/other": {} } });
    expect(ext.extensions).toEqual(["io.example/other", "io.modelcontextprotocol/tasks"]);
    expect(detectTaskWires(ext)).toEqual(["ext_2026_07_28"]);
    expect(detectTaskWires(summarizeCapabilities({ tasks: {}, extensions: { "io.modelcontextprotocol/tasks": {} } }))).toEqual(["core_2025_11_25", "ext_2026_07_28"]);
    expect(detectTaskWires(summarizeCapabilities({ tools: {} }))).toEqual([]);
  });

  it("treats anything of the wrong shape as absent", () => {
    expect(summarizeCapabilities("nonsense")).toMatchObject({ tools: false, tasks: null, extensions: [] });
    expect(summarizeCapabilities({ tasks: "yes", tools: [] })).toMatchObject({ tools: false, tasks: null });
    expect(summarizeServerInfo({ name: 42 })).toEqual({ name: "(unnamed)", version: "", title: null });
  });

  it("reads execution.taskSupport (absent means forbidden), cuts long text, caps the count", () => {
    const { tools } = summarizeTools([
      { name: "a", execution: { taskSupport: "required" } },
      { name: "b", execution: { taskSupport: "optional" }, description: "x".repeat(900) },
      { name: "c" },
      { name: "d", execution: { taskSupport: "sometimes" } },
      { nope: true },
    ]);
    expect(tools.map((t) => [t.name, t.taskSupport])).toEqual([
      ["a", "required"],
      ["b", "optional"],
      ["c", "forbidden"],
      ["d", "forbidden"],
    ]);
    expect(tools[1]!.description).toHaveLength(500);
    const many = summarizeTools(Array.from({ length: MAX_RECORDED_TOOLS + 3 }, (_, i) => ({ name: `t${i}` })));
    expect(many.tools).toHaveLength(MAX_RECORDED_TOOLS);
    expect(many.truncated).toBe(true);
    expect(summarizeTools(Array.from({ length: MAX_RECORDED_TOOLS }, (_, i) => ({ name: `t${i}` }))).truncated).toBe(false);
  });
});

describe("health rule", () => {
  it("is up when fast, degraded when slow or failing, down after three failures in a row", () => {
    expect(healthAfterCheck({ ok: true, latencyMs: 40, failuresBefore: 5 })).toEqual({ status: "up", consecutiveFailures: 0 });
    expect(healthAfterCheck({ ok: true, latencyMs: 1001, failuresBefore: 0 })).toEqual({ status: "degraded", consecutiveFailures: 0 });
    expect(healthAfterCheck({ ok: false, latencyMs: null, failuresBefore: 0 })).toEqual({ status: "degraded", consecutiveFailures: 1 });
    expect(healthAfterCheck({ ok: false, latencyMs: null, failuresBefore: 1 })).toEqual({ status: "degraded", consecutiveFailures: 2 });
    expect(healthAfterCheck({ ok: false, latencyMs: null, failuresBefore: DOWN_AFTER_FAILURES - 1 })).toEqual({ status: "down", consecutiveFailures: 3 });
  });

  it("counts a server without task support as reachable", () => {
    expect(isReachable({ ok: false, problem: { kind: "no_task_support", message: "" }, latencyMs: 3, details: null })).toBe(true);
    expect(isReachable({ ok: false, problem: { kind: "timeout", message: "" }, latencyMs: null, details: null })).toBe(false);
  });
});

describe("registry input", () => {
  it("accepts lower-case slugs with digits and hyphens only", () => {
    for (const ok of ["demo", "a", "server-2", "0x"]) expect(ZSlug.safeParse(ok).success).toBe(true);
    for (const bad of ["Demo", "-lead", "a_b", "a b", "ü", "", "x".repeat(64), "../x"]) expect(ZSlug.safeParse(bad).success).toBe(false);
  });

  it("reports empty and malformed fields as issues, never by throwing", () => {
    const parsed = ZRegisterServerInput.safeParse({ name: "", slug: "", url: "" });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join("."))).toEqual(expect.arrayContaining(["name", "slug", "url"]));
    expect(ZRegisterServerInput.safeParse({ name: "x", slug: "x", url: "not a url" }).success).toBe(false);
  });

  it("defaults the poll settings and refuses unknown fields", () => {
    expect(ZRegisterServerInput.parse({ name: "x", slug: "x", url: "http://h/mcp" })).toMatchObject({ pollMinMs: 1000, pollMaxMs: 30_000, pollConcurrency: 8, tags: [], force: false });
    expect(ZRegisterServerInput.safeParse({ name: "x", slug: "x", url: "http://h/mcp", credentialsEnc: "v1.x" }).success).toBe(false);
  });
});
