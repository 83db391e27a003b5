// npm run demo:upstream — run the demo upstream MCP server on its own (PORT, HOST, DEMO_UPSTREAM_TOKEN).
// Reads its own variables rather than lib/env.ts: PORT here is the upstream's port, not the console's.
import { z } from "zod";
import { startDemoUpstream } from "../lib/demo-upstream/server";

const ZDemoUpstreamEnv = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3100),
  HOST: z.string().min(1).default("127.0.0.1"),
  DEMO_UPSTREAM_TOKEN: z.string().min(1).optional(),
});

function log(line: string): void {
  console.log(`[demo-upstream] ${line}`);
}

async function main(): Promise<void> {
  const parsed = ZDemoUpstreamEnv.safeParse({
    PORT: process.env.PORT || undefined,
    HOST: process.env.HOST || undefined,
    DEMO_UPSTREAM_TOKEN: process.env.DEMO_UPSTREAM_TOKEN || undefined,
  });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    console.error(`Invalid configuration:\n${lines.join("\n")}`);
    process.exitCode = 1;
    return;
  }
  const env = parsed.data;

  // Last resort only: the server already contains its own failures. A stray rejection is logged loudly and
  // the demo keeps serving; an uncaught exception leaves state unknown, so the process exits after logging.
  process.on("unhandledRejection", (reason) => {
    console.error("[demo-upstream] unhandled rejection:", reason);
  });
  process.on("uncaughtException", (error) => {
    console.error("[demo-upstream] uncaught exception, exiting:", error);
    process.exit(1);
  });

  const upstream = await startDemoUpstream({
    host: env.HOST,
    port: env.PORT,
    bearerToken: env.DEMO_UPSTREAM_TOKEN,
    log,
  });
  console.log(upstream.url);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal means the operator does not want to wait for a clean shutdown.
      process.exit(1);
    }
    stopping = true;
    log(`${signal} received, shutting down`);
    upstream.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error("[demo-upstream] shutdown failed:", error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error("[demo-upstream] failed to start:", error);
  process.exit(1);
});
