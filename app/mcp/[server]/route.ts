// /mcp/{server} — the MCP gateway endpoint (Streamable HTTP) for one registered upstream server.
import { handleMcpDelete } from "@/lib/gateway/handle-mcp-delete";
import { handleMcpGet } from "@/lib/gateway/handle-mcp-get";
import { handleMcpPost } from "@/lib/gateway/handle-mcp-post";

export const dynamic = "force-dynamic";

type TContext = { params: Promise<{ server: string }> };

export async function POST(request: Request, context: TContext): Promise<Response> {
  return handleMcpPost(request, (await context.params).server);
}

export async function GET(request: Request, context: TContext): Promise<Response> {
  return handleMcpGet(request, (await context.params).server);
}

export async function DELETE(request: Request, context: TContext): Promise<Response> {
  return handleMcpDelete(request, (await context.params).server);
}
