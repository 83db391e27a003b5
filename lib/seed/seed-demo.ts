import "server-only";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { hashPassword } from "@/lib/auth/password";
import { ROLES, type TRole } from "@/lib/auth/permissions";
import { encryptSecret, keyedHash, randomToken } from "@/lib/crypto/secrets";
import type { PrismaClient } from "@/lib/db/generated/client";

export const ZDemoCredentials = z.object({
  users: z.array(z.object({ email: z.string(), role: z.string(), password: z.string() })),
  apiKey: z.string(),
  // Optional: credentials files written before these were seeded must still parse.
  /** A second agent's key: `npm run demo:agent` plays it as the thief holding a stolen handle. */
  secondApiKey: z.string().optional(),
  /** The demo server's gateway endpoint, e.g. http://127.0.0.1:3000/mcp/demo. */
  gatewayUrl: z.string().optional(),
});
export type TDemoCredentials = z.infer<typeof ZDemoCredentials>;

export const DEMO_SERVER_SLUG = "demo";

/**
 * Demo data for a first start: one user per role (random passwords, returned once so the
 * caller can print them), two agents with an API key each, and the bundled demo upstream server.
 * Refuses to run on a database that already has users.
 */
export async function seedDemo(db: PrismaClient, input: { actor: TActor; upstreamUrl: string; upstreamToken: string; gatewayBaseUrl: string }): Promise<TDemoCredentials> {
  const users = await Promise.all(
    ROLES.map(async (role: TRole) => {
      const password = `demo-${randomToken(12)}`;
      return { role, email: `${role}@demo.tether.local`, name: `Demo ${role}`, password, passwordHash: await hashPassword(password) };
    }),
  );
  const newKey = () => `tth_${randomBytes(4).toString("hex")}_${randomToken(32)}`;
  const agents = [
    { name: "demo-agent", keyName: "demo agent key", apiKey: newKey() },
    { name: "demo-agent-2", keyName: "demo agent 2 key", apiKey: newKey() },
  ];
  const { actor } = input;
  // A handle minted for this server is bound to its gateway address as the audience.
  const audience = `${input.gatewayBaseUrl.replace(/\/$/, "")}/mcp/${DEMO_SERVER_SLUG}`;

  await db.$transaction(async (tx) => {
    if ((await tx.principal.count({ where: { kind: "user" } })) > 0) {
      throw new Error("This database already has users; the demo seed only runs on an empty database.");
    }
    for (const u of users) {
      const p = await tx.principal.create({ data: { kind: "user", role: u.role, email: u.email, name: u.name, passwordHash: u.passwordHash } });
      await recordAuditEvent(tx, { actor, action: "user.created", target: { type: "principal", id: p.id }, reason: "demo seed", payload: { email: u.email, role: u.role, kind: "user" } });
    }
    for (const { name, keyName, apiKey } of agents) {
      const agent = await tx.principal.create({ data: { kind: "service", role: "viewer", name } });
      await recordAuditEvent(tx, { actor, action: "user.created", target: { type: "principal", id: agent.id }, reason: "demo seed", payload: { email: null, role: "viewer", kind: "service" } });
      const prefix = apiKey.slice(0, 12); // "tth_" + 8 hex: identifies the key, reveals nothing of its secret part
      await tx.apiKey.create({ data: { principalId: agent.id, name: keyName, prefix, hash: keyedHash("api-key", apiKey) } });
      await recordAuditEvent(tx, { actor, action: "api_key.created", target: { type: "principal", id: agent.id }, reason: "demo seed", payload: { prefix, principalId: agent.id, expiresAt: null } });
    }
    const server = await tx.mcpServer.create({
      data: {
        slug: DEMO_SERVER_SLUG,
        name: "Demo upstream",
        url: input.upstreamUrl,
        audience,
        credentialsEnc: encryptSecret(JSON.stringify({ type: "bearer", token: input.upstreamToken }), `server-credentials:${DEMO_SERVER_SLUG}`),
        tags: ["demo"],
      },
    });
    await recordAuditEvent(tx, { actor, action: "server.registered", target: { type: "mcp_server", id: server.id }, reason: "demo seed", payload: { slug: server.slug, url: server.url, audience } });
  });

  return {
    users: users.map(({ email, role, password }) => ({ email, role, password })),
    apiKey: agents[0]!.apiKey,
    secondApiKey: agents[1]!.apiKey,
    gatewayUrl: audience,
  };
}
