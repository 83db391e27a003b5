// Fuzzing the MCP gateway: thousands of generated malformed or hostile messages, straight into the
// route handlers Next serves at /mcp/{server}. Whatever arrives, the gateway must answer below 500
// with a well-formed answer (a JSON-RPC error body where a body is expected), keep serving a valid
// agent, and leave every task handle exactly as it was. Generated from a seeded PRNG: a failure
// prints its seed, and FUZZ_SEED=<seed> replays the same messages (FUZZ_MESSAGES=<n> for a longer run).
import { randomInt, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { revokeApiKey } from "@/lib/api-keys/revoke-api-key";
import { systemActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { handleMcpDelete } from "@/lib/gateway/handle-mcp-delete";
import { handleMcpGet } from "@/lib/gateway/handle-mcp-get";
import { handleMcpPost } from "@/lib/gateway/handle-mcp-post";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { actorFor, createPrincipal } from "../factories/principals";
import { setUpEnv, setUpTestSecrets } from "./support/env";
import { GATEWAY_ORIGIN, captureLogs, connectAgent, createAgent, createTask, registerServer, startDemoServer, type TAgent, type TConnectedAgent } from "./support/gateway";
import { setUpOwnDatabase } from "./support/own-database";

const MAX_BODY = 16 * 1024;
const MESSAGES = Number(process.env.FUZZ_MESSAGES ?? 5_400);
const CONCURRENCY = 6;
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : randomInt(2 ** 31);

setUpOwnDatabase();
setUpTestSecrets();
// A small body limit keeps oversized bodies cheap; the rate limit is lifted so every message reaches the check it targets.
setUpEnv(() => ({ TETHER_GATEWAY_MAX_BODY_BYTES: String(MAX_BODY), TETHER_GATEWAY_TASKS_PER_MINUTE: "10000000", TETHER_GATEWAY_UPSTREAM_TIMEOUT_MS: "10000" }));

// ---------------------------------------------------------------------------------------------
// Seeded randomness (mulberry32): the same seed gives the same messages.

type TRng = { next(): number; int(max: number): number; pick<T>(items: readonly T[]): T; chance(p: number): boolean };

function createRng(seed: number): TRng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (max) => Math.floor(next() * max), pick: (items) => items[Math.floor(next() * items.length)]!, chance: (p) => next() < p };
}

// ---------------------------------------------------------------------------------------------
// The world the messages are thrown at.

type TCtx = {
  slugA: string;
  slugB: string;
  slugDisabled: string;
  alice: TAgent;
  mallory: TAgent;
  revokedKey: string;
  /** Alice's session at A holding the real handles: never presented with Alice's own key. */
  aliceSessionWithHandles: string;
  /** Alice's other sessions: at A without handles, and at B. */
  aliceOtherSessionA: string;
  aliceSessionB: string;
  mallorySessionA: string;
  mallorySessionB: string;
  realTokens: string[];
};

type TCase = {
  category: string;
  method: "POST" | "GET" | "DELETE";
  slug: string;
  headers: Record<string, string>;
  body?: Uint8Array | string | { stream: Uint8Array[] };
  /** The id a 200 JSON answer must carry, when the message was a well-formed request. */
  answerId?: string | number;
};

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const PRINTABLE = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
const encoder = new TextEncoder();

function randomString(rng: TRng, alphabet: string, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

function oneCharChanged(rng: TRng, token: string): string {
  const i = 4 + rng.int(token.length - 4);
  let c = rng.pick([...B64URL]);
  while (c === token[i]) c = rng.pick([...B64URL]);
  return token.slice(0, i) + c + token.slice(i + 1);
}

function oddValue(rng: TRng): unknown {
  return rng.pick<() => unknown>([
    () => null,
    () => true,
    () => false,
    () => 0,
    () => -1,
    () => 1.5,
    () => 2 ** 53 + 2,
    () => -(2 ** 63),
    () => 1e308,
    () => "",
    () => " ",
    () => "x".repeat(1 + rng.int(3000)),
    () => "\u0000",
    () => "\ud800",
    () => "💥".repeat(1 + rng.int(20)),
    () => [],
    () => ({}),
    () => [1, "2", null],
    () => ({ a: { b: { c: [] } } }),
    () => "null",
    () => "<script>alert(1)</script>",
    () => "'; DROP TABLE handle; --",
    () => randomString(rng, PRINTABLE, rng.int(80)),
  ])();
}

function oddTaskId(rng: TRng, ctx: TCtx): unknown {
  const real = rng.pick(ctx.realTokens);
  return rng.pick<() => unknown>([
    () => real, // stolen: presented by the wrong principal, session or server
    () => oneCharChanged(rng, real),
    () => oneCharChanged(rng, oneCharChanged(rng, real)),
    () => `tht_${randomString(rng, B64URL, 43)}`,
    () => `tht_${randomString(rng, B64URL, rng.int(80))}`,
    () => "tht_",
    () => `${real}A`,
    () => real.slice(0, -1),
    () => ` ${real}`,
    () => `${real}\n`,
    () => real.toUpperCase(),
    () => real.replace("tht_", "THT_"),
    () => real.replace("tht_", "tth_"),
    () => [real],
    () => ({ taskId: real }),
    () => randomUUID(),
    () => randomString(rng, "0123456789abcdef", 32),
    () => oddValue(rng),
  ])();
}

const KNOWN_METHODS = [
  "ping",
  "tools/list",
  "tools/call",
  "resources/list",
  "resources/read",
  "prompts/list",
  "prompts/get",
  "completion/complete",
  "logging/setLevel",
  "initialize",
  "notifications/initialized",
  "notifications/cancelled",
  "notifications/progress",
  "notifications/roots/list_changed",
  "tasks/get",
  "tasks/result",
  "tasks/cancel",
  "tasks/update",
  "tasks/list",
  "elicitation/create",
  "sampling/createMessage",
] as const;
const ODD_METHODS = ["", " ", "tasks/", "tasks/get/", "TASKS/GET", "tasks/get\u0000", " tasks/get", "tasks/list ", "rpc.discover", "$/cancelRequest", "__proto__", "constructor", "toString", "hasOwnProperty", "../tasks/get", "x".repeat(257)];
/** Never a real task tool: a valid task-augmented call would mint a handle, and the table must not change. */
const TOOL_NAMES = ["echo", "", "nope", "long_task ", "LONG_TASK", "long_task\u0000", "../long_task", "x".repeat(300)];

function relatedMeta(rng: TRng, ctx: TCtx): Record<string, unknown> {
  return { "io.modelcontextprotocol/related-task": rng.chance(0.2) ? oddValue(rng) : { taskId: oddTaskId(rng, ctx) } };
}

function paramsFor(rng: TRng, ctx: TCtx, method: string): unknown {
  if (rng.chance(0.1)) return oddValue(rng);
  switch (method) {
    case "tasks/get":
    case "tasks/result":
    case "tasks/cancel":
    case "tasks/update":
      return rng.chance(0.1) ? {} : { taskId: oddTaskId(rng, ctx), ...(rng.chance(0.1) ? { status: oddValue(rng) } : {}) };
    case "tasks/list":
      return rng.pick([{}, { cursor: oddValue(rng) }, { cursor: `${randomString(rng, B64URL, 40)}.${randomString(rng, B64URL, 32)}` }, { cursor: "." }, { cursor: "a.b.c" }]);
    case "tools/call": {
      const params: Record<string, unknown> = { name: rng.chance(0.8) ? rng.pick(TOOL_NAMES) : oddValue(rng) };
      if (rng.chance(0.8)) params.arguments = rng.chance(0.5) ? { text: "fuzz", seconds: oddValue(rng) } : oddValue(rng);
      if (rng.chance(0.7)) params.task = rng.pick<() => unknown>([() => ({}), () => ({ ttl: oddValue(rng) }), () => oddValue(rng), () => ({ ttl: 1e12 }), () => ({ ttl: -5 })])();
      return params;
    }
    case "initialize":
      return {
        protocolVersion: rng.chance(0.5) ? "2025-11-25" : oddValue(rng),
        capabilities: rng.chance(0.5) ? {} : oddValue(rng),
        // clientInfo is stored with the session: odd text in it must not upset the database.
        clientInfo: rng.chance(0.3) ? { name: "fuzz", version: "0" } : rng.chance(0.7) ? { name: oddValue(rng), version: oddValue(rng), [randomString(rng, PRINTABLE, 5)]: oddValue(rng) } : oddValue(rng),
      };
    default:
      return rng.chance(0.5) ? {} : { [randomString(rng, PRINTABLE, 1 + rng.int(10))]: oddValue(rng) };
  }
}

/** A JSON-RPC-shaped message with some of its parts broken. */
function structuredMessage(rng: TRng, ctx: TCtx): { message: unknown; answerId?: string | number } {
  const method = rng.chance(0.85) ? rng.pick(KNOWN_METHODS) : rng.chance(0.5) ? rng.pick(ODD_METHODS) : randomString(rng, PRINTABLE, 1 + rng.int(40));
  const m: Record<string, unknown> = { jsonrpc: "2.0", id: rng.chance(0.5) ? rng.int(1_000_000) : `fuzz-${rng.int(1e9)}`, method };
  if (method.startsWith("notifications/")) delete m.id;
  if (rng.chance(0.9)) m.params = paramsFor(rng, ctx, method);
  let malformed = false;
  const mutations = rng.int(3);
  for (let i = 0; i < mutations; i++) {
    malformed = true;
    rng.pick<() => void>([
      () => (m.jsonrpc = rng.pick<unknown>(["1.0", "2", 2.0, 2, null, "2.0 ", ["2.0"], undefined, "3.0"])),
      () => (m.id = rng.pick<unknown>([1.5, -0.5, 2 ** 60, -(2 ** 60), true, false, null, {}, [], [1], { id: 1 }, "", "x".repeat(300), 1e308])),
      () => delete m.id,
      () => (m.method = rng.pick<unknown>([1, 0, null, true, {}, [], ["tasks/get"], { name: "tasks/get" }, ""])),
      () => delete m.method,
      () => (m.params = rng.pick<unknown>(["params", 1, true, null, [], [{ taskId: rng.pick(ctx.realTokens) }]])),
      () => (m.result = rng.chance(0.5) ? {} : oddValue(rng)),
      () => (m.error = rng.chance(0.5) ? { code: -32000, message: "x" } : oddValue(rng)),
      () => (m[randomString(rng, PRINTABLE, 1 + rng.int(8))] = oddValue(rng)),
      () => {
        const params = (typeof m.params === "object" && m.params !== null && !Array.isArray(m.params) ? m.params : (m.params = {})) as Record<string, unknown>;
        params._meta = relatedMeta(rng, ctx);
      },
    ])();
  }
  if (rng.chance(0.1)) {
    // An agent's answer to an upstream request (elicitation), or an error, that names a task.
    const response: Record<string, unknown> = { jsonrpc: "2.0", id: rng.int(1000), ...(rng.chance(0.5) ? { result: { action: "accept", content: { answer: "x" }, _meta: relatedMeta(rng, ctx) } } : { error: { code: -1, message: "no" } }) };
    return { message: response };
  }
  const id = m.id;
  const isWellFormedRequest = !malformed && (typeof id === "number" || typeof id === "string") && typeof m.method === "string";
  return isWellFormedRequest ? { message: m, answerId: id as string | number } : { message: m };
}

/** Nesting up to what the body limit allows: deeper than JSON.stringify's recursion can take (~4,000 levels). */
function deeplyNested(rng: TRng, maxBytes: number): string {
  const depth = 100 + rng.int(Math.floor((maxBytes - 100) / 2));
  const inner = rng.pick([
    () => `${"[".repeat(depth)}${"]".repeat(depth)}`,
    () => `${'{"a":'.repeat(Math.floor(depth / 3))}1${"}".repeat(Math.floor(depth / 3))}`,
  ])();
  return rng.pick([
    () => inner,
    () => `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":${inner}}}`,
    () => `{"jsonrpc":"2.0","method":"notifications/progress","params":{"x":${inner}}}`,
    () => `{"jsonrpc":"2.0","id":2,"method":"tasks/get","params":{"taskId":${inner}}}`,
    () => `{"jsonrpc":"2.0","id":3,"result":{"x":${inner}}}`,
    () => `{"jsonrpc":"2.0","id":4,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":${inner}}}`,
  ])();
}

function rawBody(rng: TRng, ctx: TCtx): Uint8Array | string {
  const valid = JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tasks/get", params: { taskId: rng.pick(ctx.realTokens) } });
  return rng.pick<() => Uint8Array | string>([
    () => new Uint8Array(Array.from({ length: rng.int(300) }, () => rng.int(256))),
    () => Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"s":"'), Buffer.from(rng.pick([[0xc3, 0x28], [0xa0, 0xa1], [0xe2, 0x28, 0xa1], [0xed, 0xa0, 0x80], [0xf0, 0x28, 0x8c, 0xbc], [0xc0, 0xaf], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80]])), Buffer.from('"}}')]),
    () => Buffer.concat([Buffer.from(valid), Buffer.from([0xe2, 0x82])]),
    () => valid.slice(0, rng.int(valid.length)),
    () => rng.pick(["", " ", "\n", "null", "0", "-1", '"str"', "true", "[]", "{}", "[{}]", "[[]]", "{]", "NaN", "Infinity", "undefined", '{"a":1,}', "{'jsonrpc':'2.0'}", "/* c */ {}"]),
    () => JSON.stringify(Array.from({ length: 1 + rng.int(5) }, () => structuredMessage(rng, ctx).message)),
    () => JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "tasks/get", params: { taskId: rng.pick(ctx.realTokens) } }]),
    () => `\ufeff${valid}`,
    () => `{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"taskId":"tht_x"},"params":{"taskId":"${rng.pick(ctx.realTokens)}"}}`,
    () => `{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"__proto__":{"taskId":"${rng.pick(ctx.realTokens)}"}}}`,
    () => `{"jsonrpc":"2.0","id":1e400,"method":"ping"}`,
    () => `{"jsonrpc":"2.0","id":${"9".repeat(400)},"method":"ping"}`,
    () => Buffer.from(valid, "utf16le"),
    () => deeplyNested(rng, MAX_BODY - 200),
    () => deeplyNested(rng, MAX_BODY - 200),
  ])();
}

function authHeader(rng: TRng, ctx: TCtx): string | undefined {
  return rng.pick<() => string | undefined>([
    () => undefined,
    () => "",
    () => "Bearer",
    () => "Bearer ",
    () => `Basic ${Buffer.from("a:b").toString("base64")}`,
    () => `Bearer tth_${randomString(rng, "0123456789abcdef", 8)}_${randomString(rng, B64URL, 43)}`,
    () => `Bearer ${oneCharChanged(rng, ctx.mallory.apiKey)}`,
    () => `Bearer ${ctx.mallory.apiKey.slice(0, 12)}`,
    () => `Bearer ${ctx.revokedKey}`,
    () => `Bearer ${ctx.mallory.apiKey} ${ctx.mallory.apiKey}`,
    () => `Bearer\t${ctx.mallory.apiKey}`,
    () => `Token ${ctx.mallory.apiKey}`,
    () => ctx.mallory.apiKey,
    () => `Bearer ${randomString(rng, B64URL, 20)}.${randomString(rng, B64URL, 40)}.${randomString(rng, B64URL, 30)}`,
    () => `Bearer ${"A".repeat(20_000)}`,
    () => randomString(rng, PRINTABLE, rng.int(100)),
    () => `Bearer ${rng.pick(ctx.realTokens)}`,
  ])();
}

function sessionHeader(rng: TRng, ctx: TCtx): string | undefined {
  return rng.pick<() => string | undefined>([
    () => undefined,
    () => "",
    () => randomString(rng, B64URL, 43),
    () => randomUUID(),
    () => randomString(rng, B64URL, 15),
    () => randomString(rng, B64URL, 129),
    () => randomString(rng, PRINTABLE, 40),
    () => ctx.aliceSessionWithHandles, // someone else's session
    () => oneCharChanged(rng, `xxxx${ctx.mallorySessionA}`).slice(4),
    () => ctx.mallorySessionB, // the caller's own session, but at another server
    () => `${ctx.mallorySessionA}, ${ctx.mallorySessionA}`,
  ])();
}

const CONTENT_TYPES = ["", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "application/json-rpc", "text/json", "application/json; charset=utf-16", "APPLICATION/JSON", "application/json;", "*/*", "application/*"];
const ACCEPTS = ["", "application/json", "text/event-stream", "text/html", "*/*", "application/json, text/event-stream", "text/event-stream;q=0, application/json;q=0", "garbage"];
const ODD_SLUGS = ["nope", "", "DEMO", "../demo", "demo/", "demo%00", "d".repeat(100), "ünïcode", "demo\u0000", "-demo", "a b", "%2e%2e"];

/** One generated case. Most keep a valid agent, session and server and break one or two things. */
function generateCase(rng: TRng, ctx: TCtx): TCase {
  const valid = (): TCase => ({
    category: "",
    method: "POST",
    slug: ctx.slugA,
    headers: {
      authorization: `Bearer ${ctx.mallory.apiKey}`,
      "mcp-session-id": ctx.mallorySessionA,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
  });
  const c = valid();
  const roll = rng.next();
  const setHeader = (name: string, value: string | undefined) => {
    if (value === undefined) delete c.headers[name];
    else c.headers[name] = value;
  };

  if (roll < 0.4) {
    c.category = "json-rpc shapes";
    const { message, answerId } = structuredMessage(rng, ctx);
    c.body = JSON.stringify(message);
    if (answerId !== undefined) c.answerId = answerId;
    // Alice's other sessions: her own real tokens presented in the wrong session or at the wrong server.
    if (rng.chance(0.2)) {
      const atB = rng.chance(0.5);
      c.slug = atB ? ctx.slugB : ctx.slugA;
      setHeader("authorization", `Bearer ${ctx.alice.apiKey}`);
      setHeader("mcp-session-id", atB ? ctx.aliceSessionB : ctx.aliceOtherSessionA);
    } else if (rng.chance(0.1)) {
      c.slug = ctx.slugB;
      setHeader("mcp-session-id", ctx.mallorySessionB);
    }
    if (typeof message === "object" && message !== null && (message as { method?: unknown }).method === "initialize" && rng.chance(0.9)) {
      // Most initializes carry a session header (refused); a few open real sessions.
      setHeader("mcp-session-id", ctx.mallorySessionA);
    }
  } else if (roll < 0.42) {
    // A new session: initialize without a session header (most other cases carry one).
    c.category = "initialize";
    const id = rng.int(1_000_000);
    c.body = JSON.stringify({ jsonrpc: "2.0", id, method: "initialize", params: paramsFor(rng, ctx, "initialize") });
    setHeader("mcp-session-id", undefined);
    if (rng.chance(0.2)) c.slug = ctx.slugB;
  } else if (roll < 0.6) {
    c.category = "task operations";
    const method = rng.pick(["tasks/get", "tasks/result", "tasks/cancel", "tasks/update", "tasks/get", "tasks/result", "tasks/cancel"]);
    const id = rng.int(1_000_000);
    c.body = JSON.stringify({ jsonrpc: "2.0", id, method, params: { taskId: oddTaskId(rng, ctx) } });
    c.answerId = id;
    const who = rng.int(3);
    if (who === 1) {
      setHeader("authorization", `Bearer ${ctx.alice.apiKey}`);
      setHeader("mcp-session-id", ctx.aliceOtherSessionA);
    } else if (who === 2) {
      c.slug = ctx.slugB;
      setHeader("authorization", `Bearer ${ctx.alice.apiKey}`);
      setHeader("mcp-session-id", ctx.aliceSessionB);
    }
  } else if (roll < 0.75) {
    c.category = "raw bodies";
    c.body = rawBody(rng, ctx);
  } else if (roll < 0.85) {
    c.category = "http headers and sizes";
    c.body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tasks/get", params: { taskId: rng.pick(ctx.realTokens) } });
    rng.pick<() => void>([
      () => setHeader("content-type", rng.chance(0.2) ? undefined : rng.pick(CONTENT_TYPES)),
      () => setHeader("accept", rng.chance(0.2) ? undefined : rng.pick(ACCEPTS)),
      () => {
        const size = MAX_BODY + 1 + rng.int(MAX_BODY * 3);
        const big = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(size) } });
        c.body = rng.chance(0.5) ? big : { stream: Array.from({ length: 8 }, (_, i) => encoder.encode(big.slice((i * big.length) / 8, ((i + 1) * big.length) / 8))) };
        if (rng.chance(0.5)) setHeader("content-length", String(rng.chance(0.5) ? big.length : 10));
      },
      () => setHeader("content-length", rng.pick(["-1", "abc", "1e9", String(MAX_BODY * 100), "0", "99999999999999999999"])),
      () => {
        c.body = { stream: Array.from({ length: 1 + rng.int(20) }, () => encoder.encode(randomString(rng, PRINTABLE, rng.int(200)))) };
      },
    ])();
  } else if (roll < 0.93) {
    c.category = "auth, sessions and servers";
    c.body = JSON.stringify({ jsonrpc: "2.0", id: 2, method: rng.pick(["tasks/get", "tasks/list", "tools/list", "ping"]), params: { taskId: rng.pick(ctx.realTokens) } });
    rng.pick<() => void>([
      () => setHeader("authorization", authHeader(rng, ctx)),
      () => setHeader("mcp-session-id", sessionHeader(rng, ctx)),
      () => (c.slug = rng.pick([...ODD_SLUGS, ctx.slugDisabled])),
      () => {
        setHeader("authorization", authHeader(rng, ctx));
        setHeader("mcp-session-id", sessionHeader(rng, ctx));
        c.slug = rng.pick([ctx.slugA, ctx.slugB, ctx.slugDisabled, ...ODD_SLUGS]);
      },
    ])();
  } else if (roll < 0.97) {
    c.category = "GET";
    c.method = "GET";
    delete c.body;
    setHeader("content-type", undefined);
    setHeader("accept", rng.pick(["text/event-stream", ...ACCEPTS]));
    if (rng.chance(0.5)) setHeader("mcp-session-id", sessionHeader(rng, ctx));
    if (rng.chance(0.3)) setHeader("authorization", authHeader(rng, ctx));
    if (rng.chance(0.2)) c.slug = rng.pick([ctx.slugB, ctx.slugDisabled, ...ODD_SLUGS]);
    if (rng.chance(0.2)) setHeader("last-event-id", randomString(rng, PRINTABLE, rng.int(60)));
  } else {
    c.category = "DELETE";
    c.method = "DELETE";
    delete c.body;
    // Never a valid (agent, session) pair: ending a session would revoke handles, and the table must not change.
    setHeader("mcp-session-id", rng.chance(0.2) ? undefined : rng.pick([randomString(rng, B64URL, 43), ctx.aliceSessionWithHandles, ctx.aliceOtherSessionA, ctx.mallorySessionB, "", "x"]));
    if (rng.chance(0.4)) setHeader("authorization", authHeader(rng, ctx));
    if (rng.chance(0.2)) c.slug = rng.pick([ctx.slugB, ctx.slugDisabled, ...ODD_SLUGS]);
    const auth = c.headers.authorization ?? "";
    const session = c.headers["mcp-session-id"];
    const validPair = (auth.includes(ctx.mallory.apiKey) && session === ctx.mallorySessionB && c.slug === ctx.slugB) || (auth.includes(ctx.mallory.apiKey) && session === ctx.mallorySessionA && c.slug === ctx.slugA);
    if (validPair) setHeader("mcp-session-id", randomUUID());
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Sending a case and judging the answer.

function buildRequest(c: TCase, signal: AbortSignal): Request {
  const url = `${GATEWAY_ORIGIN}/mcp/${encodeURIComponent(c.slug)}`;
  let body: BodyInit | undefined;
  if (c.body instanceof Uint8Array) body = c.body.slice();
  else if (typeof c.body === "string") body = c.body;
  else if (c.body) {
    const chunks = c.body.stream;
    body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
  }
  return new Request(url, { method: c.method, headers: c.headers, signal, ...(body === undefined ? {} : { body }), duplex: "half" } as RequestInit);
}

function dispatch(c: TCase, request: Request): Promise<Response> {
  if (c.method === "POST") return handleMcpPost(request, c.slug);
  if (c.method === "GET") return handleMcpGet(request, c.slug);
  return handleMcpDelete(request, c.slug);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Why a JSON value is not a JSON-RPC 2.0 answer (response or error), or null when it is one. */
function jsonRpcProblem(value: unknown, mustBeError: boolean): string | null {
  if (!isObject(value)) return "not a JSON object";
  if (value.jsonrpc !== "2.0") return 'no "jsonrpc": "2.0"';
  if ("method" in value) return isObject(value.params) || value.params === undefined ? null : "a request from upstream with bad params";
  if (!(typeof value.id === "string" || typeof value.id === "number" || value.id === null)) return "bad id";
  const hasResult = "result" in value;
  const hasError = "error" in value;
  if (hasResult === hasError) return "needs exactly one of result and error";
  if (mustBeError && !hasError) return "an error status without a JSON-RPC error";
  if (hasError) {
    const e = value.error;
    if (!isObject(e) || !Number.isInteger(e.code) || typeof e.message !== "string") return "malformed error object";
  }
  return null;
}

async function readWithTimeout(body: ReadableStream<Uint8Array>, ms: number): Promise<string | null> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), ms).unref());
  for (;;) {
    const next = await Promise.race([reader.read(), timer]);
    if (next === "timeout") {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    if (next.done) return text + decoder.decode();
    text += decoder.decode(next.value, { stream: true });
  }
}

/** Null when the answer is acceptable; otherwise what is wrong with it. */
async function judge(c: TCase, res: Response, disconnect: AbortController): Promise<string | null> {
  if (res.status >= 500) return `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
  const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
  if (type === "text/event-stream") {
    if (c.method === "GET") {
      // The agent goes away, as Next reports it: the request's signal aborts, then the body is cancelled.
      disconnect.abort();
      await res.body?.cancel();
      return res.status === 200 ? null : `SSE with HTTP ${res.status}`;
    }
    const text = await readWithTimeout(res.body!, 15_000);
    if (text === null) return "SSE answer did not end within 15 s";
    for (const line of text.split("\n")) {
      if (!line.startsWith("data:")) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line.slice(5));
      } catch {
        return `SSE data is not JSON: ${line.slice(0, 200)}`;
      }
      const problem = jsonRpcProblem(parsed, false);
      if (problem) return `SSE message: ${problem}`;
    }
    return null;
  }
  const text = await res.text();
  if (res.status === 202 || (c.method === "DELETE" && res.status === 200)) return text === "" ? null : `HTTP ${res.status} with a body`;
  if (type !== "application/json") return `HTTP ${res.status} answered ${type || "no content type"}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `body is not JSON: ${text.slice(0, 200)}`;
  }
  const problem = jsonRpcProblem(parsed, res.status >= 400);
  if (problem) return `${problem}: ${text.slice(0, 200)}`;
  if (res.status === 200 && c.answerId !== undefined && isObject(parsed) && !("method" in parsed) && parsed.id !== c.answerId && parsed.id !== null) {
    return `answered id ${JSON.stringify(parsed.id)} to id ${JSON.stringify(c.answerId)}`;
  }
  return null;
}

function describeCase(c: TCase): string {
  const body = c.body === undefined ? "" : typeof c.body === "string" ? c.body : c.body instanceof Uint8Array ? `<${c.body.length} bytes>` : "<stream>";
  const headers = Object.entries(c.headers)
    .map(([k, v]) => `${k}: ${v.length > 60 ? `${v.slice(0, 60)}…` : v}`)
    .join("; ");
  return `[${c.category}] ${c.method} /mcp/${c.slug.slice(0, 40)} {${headers}} ${body.slice(0, 300)}`;
}

// ---------------------------------------------------------------------------------------------

let demo: Awaited<ReturnType<typeof startDemoServer>>;
let ctx: TCtx;
let admin: ReturnType<typeof actorFor>;
const open: TConnectedAgent[] = [];
let logs: ReturnType<typeof captureLogs>;

async function snapshotHandles(): Promise<string> {
  const rows = await getPrisma().handle.findMany({ orderBy: { id: "asc" } });
  return JSON.stringify(rows);
}

/** A raw initialize, so the fuzzer's own session has no SDK client (and no SSE stream) behind it. */
async function rawSession(agent: TAgent, slug: string): Promise<string> {
  const res = await handleMcpPost(
    new Request(`${GATEWAY_ORIGIN}/mcp/${slug}`, {
      method: "POST",
      headers: { authorization: `Bearer ${agent.apiKey}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "fuzzer", version: "0" } } }),
    }),
    slug,
  );
  const session = res.headers.get("mcp-session-id");
  await res.body?.cancel();
  if (!session) throw new Error(`initialize failed: HTTP ${res.status}`);
  return session;
}

beforeAll(async () => {
  console.log(`gateway fuzz seed: ${SEED} (replay with FUZZ_SEED=${SEED})`);
  logs = captureLogs();
  await ensureDefaultPolicy(getPrisma(), systemActor("test", `gateway-fuzz-${randomUUID()}`));
  demo = await startDemoServer();
  const [a, b, disabled] = await Promise.all([
    registerServer({ url: demo.url, bearerToken: demo.bearerToken }),
    registerServer({ url: demo.url, bearerToken: demo.bearerToken }),
    registerServer({ url: demo.url, bearerToken: demo.bearerToken }),
  ]);
  await getPrisma().mcpServer.update({ where: { id: disabled.id }, data: { enabled: false } });
  admin = actorFor(await createPrincipal(getPrisma(), { role: "admin" }));
  const [alice, mallory, revoked] = await Promise.all([createAgent(admin, "fuzz-alice"), createAgent(admin, "fuzz-mallory"), createAgent(admin, "fuzz-revoked")]);
  await revokeApiKey({ actor: admin, data: { keyId: revoked.apiKeyId, reason: "fuzz: a revoked key" } });

  const aliceA = await connectAgent(alice, a.slug);
  const aliceOther = await connectAgent(alice, a.slug);
  const aliceB = await connectAgent(alice, b.slug);
  open.push(aliceA, aliceOther, aliceB);
  // Work that outlives the fuzz run, so no handle changes state on its own meanwhile.
  const realTokens: string[] = [];
  for (let i = 0; i < 3; i++) realTokens.push((await createTask(aliceA.client, "long_task", { seconds: 3600 }, { ttl: 3_600_000 })).taskId);

  ctx = {
    slugA: a.slug,
    slugB: b.slug,
    slugDisabled: disabled.slug,
    alice,
    mallory,
    revokedKey: revoked.apiKey,
    aliceSessionWithHandles: aliceA.transport.sessionId!,
    aliceOtherSessionA: aliceOther.transport.sessionId!,
    aliceSessionB: aliceB.transport.sessionId!,
    mallorySessionA: await rawSession(mallory, a.slug),
    mallorySessionB: await rawSession(mallory, b.slug),
    realTokens,
  };
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(open.map((c) => c.client.close()));
  await demo?.close();
  logs?.restore();
});

describe("gateway fuzz", () => {
  it(`answers ${MESSAGES}+ malformed messages below 500, well-formed, and changes no handle`, async () => {
    const policy = await getPrisma().handlePolicy.findFirstOrThrow({ orderBy: { version: "desc" } });
    expect(policy.requireSessionBinding).toBe(true); // Alice's tokens in her other sessions must be refused, not used.
    const before = await snapshotHandles();
    expect(JSON.parse(before)).toHaveLength(3);

    const rng = createRng(SEED);
    const cases = Array.from({ length: MESSAGES }, () => generateCase(rng, ctx));
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const categories = new Map<string, number>();
    let sent = 0;
    let refusedByFetch = 0;
    const started = Date.now();

    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        let request: Request;
        const disconnect = new AbortController();
        try {
          request = buildRequest(c, disconnect.signal);
        } catch {
          refusedByFetch += 1; // not even constructible as an HTTP request: it could never reach the gateway
          continue;
        }
        sent += 1;
        categories.set(c.category, (categories.get(c.category) ?? 0) + 1);
        try {
          const res = await dispatch(c, request);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const problem = await judge(c, res, disconnect);
          if (problem) failures.push(`${problem}\n    ${describeCase(c)}`);
        } catch (err) {
          failures.push(`threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n    ${describeCase(c)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (Date.now() - started) / 1000;

    console.log(
      [
        `gateway fuzz: seed ${SEED}, ${sent} messages in ${seconds.toFixed(1)} s (${refusedByFetch} not constructible), ${failures.length} failures`,
        `  by category: ${[...categories].map(([k, v]) => `${k} ${v}`).join(", ")}`,
        `  by status:   ${[...statuses].sort(([a], [b]) => a - b).map(([k, v]) => `${k}×${v}`).join(", ")}`,
      ].join("\n"),
    );
    expect(sent).toBeGreaterThanOrEqual(Math.min(MESSAGES, 5_000));
    if (failures.length) console.log(failures.filter((f) => !f.startsWith("HTTP 502")).slice(0, 20).map((f) => f.slice(0, 700)).join("\n"));
    expect(failures.slice(0, 20), `seed ${SEED} (replay with FUZZ_SEED=${SEED}): ${failures.length} bad answers`).toEqual([]);
    expect(logs.text()).not.toContain("Gateway request failed");

    // Not one handle changed: no stolen, altered or forged token was honoured, nothing was revoked or minted.
    expect(await snapshotHandles()).toBe(before);
    // The upstream was healthy throughout: no agent message may be reported as an upstream failure.
    expect(await getPrisma().auditEvent.count({ where: { action: "gateway.upstream_error" } })).toBe(0);
    const denied = await getPrisma().auditEvent.count({ where: { action: "handle.denied", actorId: ctx.mallory.principalId } });
    expect(denied).toBeGreaterThan(100);
    expect(await getPrisma().auditEvent.count({ where: { action: "gateway.enumeration_suspected", actorId: ctx.mallory.principalId } })).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it("still serves a valid agent afterwards: a real task runs, and Alice's handles still work", async () => {
    const carol = await createAgent(admin, "fuzz-carol");
    const connected = await connectAgent(carol, ctx.slugA);
    open.push(connected);
    const task = await createTask(connected.client, "long_task", { seconds: 0.2 });
    const deadline = Date.now() + 10_000;
    let status = task.status;
    while (status !== "completed" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await connected.client.experimental.tasks.getTask(task.taskId)).status;
    }
    expect(status).toBe("completed");
    const result = await connected.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    expect(result.content[0]).toMatchObject({ type: "text" });

    const aliceA = open[0]!;
    for (const token of ctx.realTokens) expect((await aliceA.client.experimental.tasks.getTask(token)).status).toBe("working");
  }, 30_000);
});

/** One POST from Mallory at server A, in her session unless `session` says otherwise. */
async function postAsMallory(body: string, session: string | null = ctx.mallorySessionA): Promise<{ status: number; session: string | null; body: unknown }> {
  const res = await handleMcpPost(
    new Request(`${GATEWAY_ORIGIN}/mcp/${ctx.slugA}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${ctx.mallory.apiKey}`,
        ...(session ? { "mcp-session-id": session } : {}),
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body,
    }),
    ctx.slugA,
  );
  const text = await res.text();
  const isJson = res.headers.get("content-type") === "application/json";
  return { status: res.status, session: res.headers.get("mcp-session-id"), body: isJson ? (JSON.parse(text) as unknown) : null };
}

// What earlier runs of this fuzzer found, pinned down so it stays fixed.
describe("gateway fuzz findings", () => {
  it("refuses deeply nested messages as invalid requests, not as upstream failures (were 502s)", async () => {
    const send = async (body: string) => {
      const { status, body: answer } = await postAsMallory(body);
      return { status, body: answer };
    };
    const nest = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const shapes = [
      (x: string) => `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":${x}}}`,
      (x: string) => `{"jsonrpc":"2.0","method":"notifications/progress","params":{"x":${x}}}`,
      (x: string) => `{"jsonrpc":"2.0","id":3,"result":{"x":${x}}}`,
      (x: string) => `{"jsonrpc":"2.0","id":4,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":${x}}}`,
      (x: string) => x,
    ];
    for (const shape of shapes) {
      for (const depth of [200, (MAX_BODY - 200) / 2]) {
        const answer = await send(shape(nest(depth)));
        expect(answer).toEqual({ status: 400, body: expect.objectContaining({ jsonrpc: "2.0", id: null, error: expect.objectContaining({ code: -32600 }) }) });
      }
    }
    // Nesting that real messages use still goes through.
    expect((await send(shapes[0]!(nest(50)))).status).toBe(200);
    expect((await send(shapes[1]!(nest(50)))).status).toBe(202);
    expect(await getPrisma().auditEvent.count({ where: { action: "gateway.upstream_error" } })).toBe(0);
  });

  it("stores an initialize whose clientInfo holds NUL or unpaired surrogates (was a 500 after the upstream session opened)", async () => {
    const clientInfo = { name: "fuzz\u0000name", version: "\ud800", "key\u0000": ["\udfff"] };
    const answer = await postAsMallory(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo } }), null);
    expect(answer).toMatchObject({ status: 200, session: expect.any(String), body: { jsonrpc: "2.0", id: 1, result: expect.any(Object) } });
    const row = await getPrisma().gatewaySession.findFirstOrThrow({ where: { principalId: ctx.mallory.principalId }, orderBy: { createdAt: "desc" } });
    expect(row.clientInfo).toEqual({ name: "fuzz\ufffdname", version: "\ufffd", "key\ufffd": ["\ufffd"] });
  });

  it("passes the upstream's refusal of an invalid initialize on as a JSON-RPC error (was a 502)", async () => {
    const answer = await postAsMallory(JSON.stringify({ jsonrpc: "2.0", id: 9, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: {} } }), null);
    expect(answer).toMatchObject({ status: 200, session: null, body: { jsonrpc: "2.0", id: 9, error: { code: expect.any(Number), message: expect.stringMatching(/^The upstream server refused initialize: /) } } });
    expect(await getPrisma().auditEvent.count({ where: { action: "gateway.upstream_error" } })).toBe(0);
  });
});
