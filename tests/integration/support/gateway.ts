// A gateway under test: real upstream MCP servers (Tether's demo server in-process, the official
// reference server `server-everything` as a child process), registered in the run's database,
// agents with real API keys, and official SDK clients whose HTTP goes straight into the gateway's
// route handlers (the same functions Next serves at /mcp/{server}).
import { randomBytes, randomUUID } from "node:crypto";
import { vi } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CreateTaskResultSchema, ElicitRequestSchema, type ElicitRequest, type ElicitResult, type Task } from "@modelcontextprotocol/sdk/types.js";
import { createApiKey } from "@/lib/api-keys/create-api-key";
import { createServiceAccount } from "@/lib/api-keys/create-service-account";
import type { TActor } from "@/lib/auth/actor";
import { encryptSecret } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { startDemoUpstream, type TDemoUpstream } from "@/lib/demo-upstream/server";
import { handleMcpDelete } from "@/lib/gateway/handle-mcp-delete";
import { handleMcpGet } from "@/lib/gateway/handle-mcp-get";
import { handleMcpPost } from "@/lib/gateway/handle-mcp-post";
import { serverCredentialsContext } from "@/lib/gateway/upstream";
import { log } from "@/lib/log";

// The official reference server, shared with the browser tests.
export { startEverythingServer, type TEverythingServer } from "../../e2e/support/everything-server";

export const GATEWAY_ORIGIN = "http://gateway.test";

/** Routes a request for http://gateway.test/mcp/{slug} to the gateway's handlers, as Next would. */
export async function gatewayFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  const match = /^\/mcp\/([^/]+)$/.exec(new URL(request.url).pathname);
  if (!match) return new Response("not found", { status: 404 });
  const slug = decodeURIComponent(match[1]!);
  if (request.method === "POST") return handleMcpPost(request, slug);
  if (request.method === "GET") return handleMcpGet(request, slug);
  if (request.method === "DELETE") return handleMcpDelete(request, slug);
  return new Response(null, { status: 405 });
}

export type TAgent = { principalId: string; apiKeyId: string; apiKey: string; name: string };

export async function createAgent(admin: TActor, name = `agent-${randomUUID().slice(0, 8)}`): Promise<TAgent> {
  const account = await createServiceAccount({ actor: admin, data: { name, role: "viewer" } });
  const created = await createApiKey({ actor: admin, data: { principalId: account.id, name: "test key", expiresInDays: 1 } });
  return { principalId: account.id, apiKeyId: created.dto.id, apiKey: created.key, name };
}

export async function registerServer(input: { url: string; bearerToken?: string; slug?: string }): Promise<{ id: string; slug: string }> {
  const slug = input.slug ?? `up-${randomUUID().slice(0, 8)}`;
  const server = await getPrisma().mcpServer.create({
    data: {
      slug,
      name: `Upstream ${slug}`,
      url: input.url,
      audience: `${GATEWAY_ORIGIN}/mcp/${slug}`,
      credentialsEnc: input.bearerToken ? encryptSecret(JSON.stringify({ type: "bearer", token: input.bearerToken }), serverCredentialsContext(slug)) : null,
    },
  });
  return { id: server.id, slug };
}

export type TConnectedAgent = { client: Client; transport: StreamableHTTPClientTransport };

/** `options.fetch` replaces `gatewayFetch` for the client's HTTP (a test wrapping it to observe the client's requests). */
export async function connectAgent(
  agent: { apiKey: string },
  slug: string,
  onElicit?: (request: ElicitRequest) => ElicitResult | Promise<ElicitResult>,
  options: { fetch?: typeof gatewayFetch } = {},
): Promise<TConnectedAgent> {
  const client = new Client({ name: "tether-gateway-test", version: "0.0.0" }, { capabilities: { elicitation: { form: {} } } });
  if (onElicit) client.setRequestHandler(ElicitRequestSchema, (request) => onElicit(request));
  const transport = new StreamableHTTPClientTransport(new URL(`${GATEWAY_ORIGIN}/mcp/${slug}`), {
    fetch: options.fetch ?? gatewayFetch,
    requestInit: { headers: { Authorization: `Bearer ${agent.apiKey}` } },
  });
  await client.connect(transport);
  return { client, transport };
}

export async function createTask(client: Client, name: string, args: Record<string, unknown>, task: { ttl?: number } = {}): Promise<Task> {
  return (await client.request({ method: "tools/call", params: { name, arguments: args, task } }, CreateTaskResultSchema)).task;
}

export async function startDemoServer(): Promise<TDemoUpstream & { bearerToken: string }> {
  const bearerToken = randomBytes(24).toString("base64url");
  const upstream = await startDemoUpstream({ port: 0, bearerToken, defaultDurationSeconds: 1, log: () => undefined });
  return Object.assign(upstream, { bearerToken });
}

/** Everything the gateway logged while the test ran, as text, to scan for secrets. */
export function captureLogs(): { text(): string; restore(): void } {
  const lines: string[] = [];
  const spies = (["fatal", "error", "warn", "info", "debug", "trace"] as const).map((level) =>
    vi.spyOn(log, level).mockImplementation(((...args: unknown[]) => {
      lines.push(JSON.stringify(args, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v)));
    }) as never),
  );
  return { text: () => lines.join("\n"), restore: () => spies.forEach((s) => s.mockRestore()) };
}
