// The gateway's pure rules: which messages it accepts, how task ids are rewritten between the
// agent's view and the upstream's, and how the effective TTL is chosen.
import { describe, expect, it } from "vitest";
import { RELATED_TASK_META_KEY, classifyMessage, classifyMessageBySchema, describeInvalidMessage } from "@/lib/gateway/jsonrpc";
import { relatedTaskId, scrubUpstreamIds, withRelatedTaskId } from "@/lib/gateway/rewrite-task-ids";
import { effectiveTtl, storedMs } from "@/lib/gateway/task-shape";
import { scrubStatusMessage } from "@/lib/handles/apply-observed-status";

describe("classifyMessage", () => {
  it("tells requests, notifications, results and errors apart", () => {
    expect(classifyMessage({ jsonrpc: "2.0", id: 1, method: "ping" })?.kind).toBe("request");
    expect(classifyMessage({ jsonrpc: "2.0", method: "notifications/initialized" })?.kind).toBe("notification");
    expect(classifyMessage({ jsonrpc: "2.0", id: "a", result: {} })?.kind).toBe("result");
    expect(classifyMessage({ jsonrpc: "2.0", id: null, error: { code: -1, message: "x" } })?.kind).toBe("error");
  });

  it.each([
    [[{ jsonrpc: "2.0", id: 1, method: "ping" }], "batches are not supported"],
    [{ jsonrpc: "1.0", id: 1, method: "ping" }, '"jsonrpc": "2.0"'],
    [{ jsonrpc: "2.0", id: 1, method: "" }, '"method" must be a non-empty string'],
    [{ jsonrpc: "2.0", id: 1.5, method: "ping" }, '"id" must be a string or an integer'],
    [{ jsonrpc: "2.0", id: 1, method: "ping", params: [1] }, '"params" must be an object'],
    [{ jsonrpc: "2.0", id: 1 }, 'must have a "method", a "result" or an "error"'],
    ["text", "must be a JSON-RPC 2.0 object"],
  ])("refuses %j and says why", (value, why) => {
    expect(classifyMessage(value)).toBeNull();
    expect(describeInvalidMessage(value)).toContain(why);
  });

  it("answers exactly as the schemas do, over every combination of member values that matter", () => {
    // Each member absent or one of the values that sit on either side of a rule.
    const ABSENT = Symbol("absent");
    const jsonrpcs = [ABSENT, "2.0", "1.0", 2];
    const ids = [ABSENT, null, 0, -0, 7, 1.5, -3, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, "", "a", "x".repeat(256), "x".repeat(257), true, {}, []];
    const methods = [ABSENT, "", "ping", "tasks/get", "m".repeat(256), "m".repeat(257), 3, null];
    const params = [ABSENT, {}, { taskId: "tht_x" }, [], null, "p", 1];
    const results = [ABSENT, {}, { task: { taskId: "t", status: "working" } }, [], null, "r"];
    const errors = [ABSENT, { code: -32602, message: "m" }, { code: 1, message: "m", data: { x: 1 }, extra: true }, { code: 1.5, message: "m" }, { code: 1 }, { message: "m" }, null, [], "e"];
    let compared = 0;
    for (const jsonrpc of jsonrpcs)
      for (const id of ids)
        for (const method of methods)
          for (const param of params)
            for (const result of results)
              for (const error of errors) {
                const value: Record<string, unknown> = {};
                for (const [key, v] of [["jsonrpc", jsonrpc], ["id", id], ["method", method], ["params", param], ["result", result], ["error", error]] as const) if (v !== ABSENT) value[key] = v;
                const byHand = classifyMessage(value);
                const bySchema = classifyMessageBySchema(value);
                expect({ value, kind: byHand?.kind ?? null }).toEqual({ value, kind: bySchema?.kind ?? null });
                if (byHand) expect(byHand.message).toEqual(bySchema!.message);
                compared++;
              }
    expect(compared).toBeGreaterThan(100_000);
    for (const other of [null, 1, "x", [], [{ jsonrpc: "2.0", id: 1, method: "ping" }]]) expect(classifyMessage(other)).toBe(classifyMessageBySchema(other));
  });
});

describe("task id rewriting", () => {
  const message = { jsonrpc: "2.0", id: 3, result: { content: [], _meta: { [RELATED_TASK_META_KEY]: { taskId: "upstream-1234567" } } } };

  it("finds and replaces the related task in a result without changing the input", () => {
    expect(relatedTaskId(message)).toBe("upstream-1234567");
    const rewritten = withRelatedTaskId(message, "tht_token");
    expect(relatedTaskId(rewritten)).toBe("tht_token");
    expect(relatedTaskId(message)).toBe("upstream-1234567");
  });

  it("strips the related task when the other side must not learn it", () => {
    const request = { jsonrpc: "2.0", id: 4, method: "elicitation/create", params: { _meta: { [RELATED_TASK_META_KEY]: { taskId: "x" }, other: 1 } } };
    const stripped = withRelatedTaskId(request, null);
    expect(relatedTaskId(stripped)).toBeUndefined();
    expect((stripped.params as { _meta: object })._meta).toEqual({ other: 1 });
  });

  it("scrubs known upstream ids anywhere in a serialised message, and masks those without a token", () => {
    const text = JSON.stringify({ error: { message: "Task upstream-1234567 not found; see upstream-7654321" } });
    const scrubbed = scrubUpstreamIds(text, new Map([["upstream-1234567", "tht_abc"], ["upstream-7654321", null]]));
    expect(scrubbed).toBe(JSON.stringify({ error: { message: "Task tht_abc not found; see [task]" } }));
  });
});

describe("effectiveTtl", () => {
  const policy = { defaultMs: 15 * 60_000, maxMs: 60 * 60_000 };
  it("is the minimum of requested, upstream and the policy maximum", () => {
    expect(effectiveTtl({ ...policy, requestedMs: 120_000, upstreamMs: 300_000 })).toBe(120_000);
    expect(effectiveTtl({ ...policy, requestedMs: 600_000, upstreamMs: 300_000 })).toBe(300_000);
    expect(effectiveTtl({ ...policy, requestedMs: 10 * 3_600_000, upstreamMs: null })).toBe(policy.maxMs);
  });
  it("uses the policy default when nothing was requested, and is never unlimited", () => {
    expect(effectiveTtl({ ...policy, requestedMs: null, upstreamMs: null })).toBe(policy.defaultMs);
    expect(effectiveTtl({ ...policy, requestedMs: null, upstreamMs: 0 })).toBe(policy.defaultMs);
  });
  it("stores absurd millisecond values capped, never wrapped", () => {
    expect(storedMs(1e15)).toBe(2_147_483_647);
    expect(storedMs(-5)).toBe(0);
    expect(storedMs(Number.NaN)).toBeNull();
  });
});

describe("scrubStatusMessage", () => {
  it("replaces the task's upstream id with its accessor and bounds the length", () => {
    expect(scrubStatusMessage("job 7f3a-99 running (7f3a-99)", "7f3a-99", "hdl_ab")).toBe("job hdl_ab running (hdl_ab)");
    expect(scrubStatusMessage(undefined, "7f3a-99", "hdl_ab")).toBeNull();
    expect(scrubStatusMessage("x".repeat(5000), "7f3a-99", "hdl_ab")).toHaveLength(2000);
  });
});
