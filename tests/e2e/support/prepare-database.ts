// Run by the e2e global setup under tsx: creates the run's own database, migrates it and
// seeds one user per role with known passwords. Prints {name, url} as JSON on the last line.
import { systemActor } from "@/lib/auth/actor";
import { hashPassword } from "@/lib/auth/password";
import { ROLES } from "@/lib/auth/permissions";
import { createPrismaClient } from "@/lib/db/client";
import { createTestDatabase } from "@/lib/db/test-database";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { E2E_PASSWORD, e2eEmail } from "./users";

const { name, url } = await createTestDatabase();
const db = createPrismaClient(url);
await ensureDefaultPolicy(db, systemActor("e2e-setup", "e2e-setup"));
const passwordHash = await hashPassword(E2E_PASSWORD);
for (const role of ROLES) {
  await db.principal.create({ data: { kind: "user", role, email: e2eEmail(role), name: `E2E ${role}`, passwordHash } });
}
await db.$disconnect();
process.stdout.write(`${JSON.stringify({ name, url })}\n`);
