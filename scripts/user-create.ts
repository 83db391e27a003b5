// `npm run user:create -- --email x --role admin [--name "..."] [--password-stdin]`
// Creates a console user (typically the first admin of a real deployment). Without
// --password-stdin a strong password is generated and printed once.
import { parseArgs } from "node:util";
import { systemActor } from "@/lib/auth/actor";
import { randomToken } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { describeConnectionError, isConnectionError } from "@/lib/db/describe-connection-error";
import { getEnv } from "@/lib/env";
import { isAppError } from "@/lib/errors";
import { createUser } from "@/lib/users/create-user";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { email: { type: "string" }, role: { type: "string" }, name: { type: "string" }, "password-stdin": { type: "boolean", default: false } },
    strict: true,
  });
  const env = getEnv();
  if (!env.DATABASE_URL) {
    console.error("DATABASE_URL is not set. Point it at Tether's database (in embedded mode, `npm start` creates the demo users).");
    return 1;
  }
  const generated = !values["password-stdin"];
  const password = generated ? `${randomToken(18)}` : await readStdin();
  try {
    const user = await createUser({
      actor: systemActor("cli:user-create", `cli-${process.pid}`),
      data: { email: values.email, role: values.role, name: values.name ?? values.email?.split("@")[0], password },
    });
    console.log(`Created ${user.role} ${user.email} (${user.id}).`);
    if (generated) console.log(`Password (shown once): ${password}`);
    return 0;
  } catch (err) {
    if (isAppError(err)) {
      console.error(`${err.message}${err.issues ? `\n${err.issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}` : ""}`);
      return 1;
    }
    if (isConnectionError(err)) {
      console.error(describeConnectionError(err, env.DATABASE_URL));
      return 1;
    }
    throw err;
  } finally {
    await getPrisma().$disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message.split("\n")[0] : String(err));
    process.exit(1);
  },
);
