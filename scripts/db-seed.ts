// `npm run db:seed -- --demo [--upstream-url URL --upstream-token TOKEN]`
// Seeds demo data into the Postgres at DATABASE_URL (refused when it already has users).
// Without --demo it only installs the default policy.
import { parseArgs } from "node:util";
import { systemActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { describeConnectionError, isConnectionError } from "@/lib/db/describe-connection-error";
import { getEnv } from "@/lib/env";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { seedDemo } from "@/lib/seed/seed-demo";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { demo: { type: "boolean", default: false }, "upstream-url": { type: "string" }, "upstream-token": { type: "string" } },
    strict: true,
  });
  const env = getEnv();
  if (!env.DATABASE_URL) {
    console.error("DATABASE_URL is not set. (Embedded mode seeds itself on the first `npm start`.)");
    return 1;
  }
  const db = getPrisma();
  const actor = systemActor("cli:db-seed", `cli-${process.pid}`);
  try {
    if (await ensureDefaultPolicy(db, actor)) console.log("Installed the default handle policy (version 1).");
    if (!values.demo) return 0;
    const publicUrl = env.TETHER_PUBLIC_URL ?? `http://localhost:${env.PORT}`;
    const creds = await seedDemo(db, {
      actor,
      upstreamUrl: values["upstream-url"] ?? `http://127.0.0.1:${env.TETHER_DEMO_UPSTREAM_PORT}/mcp`,
      upstreamToken: values["upstream-token"] ?? process.env.DEMO_UPSTREAM_TOKEN ?? "",
      gatewayBaseUrl: publicUrl,
    });
    console.log("Demo users (shown once):");
    for (const u of creds.users) console.log(`  ${u.role.padEnd(9)} ${u.email.padEnd(28)} ${u.password}`);
    console.log(`Demo agent API key (shown once): ${creds.apiKey}`);
    return 0;
  } catch (err) {
    if (isConnectionError(err)) {
      console.error(describeConnectionError(err, env.DATABASE_URL));
      return 1;
    }
    console.error(err instanceof Error ? err.message.split("\n")[0] : String(err));
    return 1;
  } finally {
    await db.$disconnect();
  }
}

main().then((code) => process.exit(code));
