// Benchmark agents built with the official MCP SDK client, as the gateway's real agents are:
// Client + StreamableHTTPClientTransport, a task-augmented tools/call, then tasks/get polls.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CreateTaskResultSchema } from "@modelcontextprotocol/sdk/types.js";
import type { TJson, TMcpEndpoint, TMcpSession } from "./mcp-http";

const clients = new Set<Client>();

/** Connects an SDK client (initialize + initialized) to the endpoint; the session to poll comes from createSdkTask. */
export async function openSdkClient(endpoint: TMcpEndpoint): Promise<Client> {
  const client = new Client({ name: "tether-bench-gateway-sdk", version: "0.0.0" });
  const transport = new StreamableHTTPClientTransport(endpoint.url, { requestInit: { headers: { authorization: endpoint.authorization } } });
  await client.connect(transport);
  clients.add(client);
  return client;
}

export async function createSdkTask(client: Client, tool: string, args: TJson, ttlMs: number): Promise<string> {
  const created = await client.request({ method: "tools/call", params: { name: tool, arguments: args, task: { ttl: ttlMs } } }, CreateTaskResultSchema);
  return created.task.taskId;
}

/** One tasks/get through the SDK; throws unless the answer is the polled task. */
export async function getSdkTask(session: TMcpSession & { sdk: Client }): Promise<string> {
  const task = await session.sdk.experimental.tasks.getTask(session.taskId);
  if (task.taskId !== session.taskId) throw new Error(`tasks/get: answer for another task`);
  return task.status;
}

/** Closes every SDK client this process opened (their GET streams included). */
export async function closeSdkClients(): Promise<void> {
  await Promise.allSettled([...clients].map((c) => c.close()));
  clients.clear();
}
