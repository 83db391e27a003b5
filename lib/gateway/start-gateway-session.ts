import "server-only";
import { randomUUID } from "node:crypto";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { encryptSecret, keyedHash, randomToken } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import type { Prisma } from "@/lib/db/generated/client";
import { GatewayHttpError, RPC_ERROR } from "./jsonrpc";
import type { TUpstreamServer } from "./upstream";

const MAX_CLIENT_INFO_CHARS = 8_192;

export function upstreamSessionContext(gatewaySessionId: string): string {
  return `gateway-session:${gatewaySessionId}`;
}

/**
 * Records a new downstream session after the upstream accepted `initialize`. The agent gets a
 * fresh random Mcp-Session-Id (stored only as a keyed hash); the upstream's own session id is
 * kept encrypted and never shown, so one principal's session can never be used by another.
 */
export async function startGatewaySession(input: {
  actor: TActor;
  server: TUpstreamServer;
  upstreamSessionId: string | null;
  protocolVersion: string | null;
  clientInfo: Prisma.InputJsonValue | null;
}): Promise<{ id: string; downstreamSessionId: string }> {
  const { actor, server } = input;
  if (actor.type !== "service") throw new GatewayHttpError(403, RPC_ERROR.INVALID_REQUEST, "Only agents (service accounts) may use the gateway.");
  const id = randomUUID();
  const downstreamSessionId = randomToken(32);
  const storable = input.clientInfo === null ? null : (storableJson(input.clientInfo) as Prisma.InputJsonValue);
  // Kept for reviewers, not as a store: an oversized clientInfo keeps only its name and version.
  const clientInfo =
    storable !== null && JSON.stringify(storable).length > MAX_CLIENT_INFO_CHARS
      ? (storableJson({ name: String((storable as { name?: unknown }).name ?? "").slice(0, 200), version: String((storable as { version?: unknown }).version ?? "").slice(0, 100) }) as Prisma.InputJsonValue)
      : storable;
  const name = (clientInfo as { name?: unknown } | null)?.name;
  const clientName = typeof name === "string" ? name.slice(0, 200) : null;
  await getPrisma().$transaction(async (tx) => {
    await tx.gatewaySession.create({
      data: {
        id,
        sessionHash: keyedHash("gateway-session", downstreamSessionId),
        principalId: actor.id,
        serverId: server.id,
        apiKeyId: actor.apiKeyId ?? null,
        upstreamSessionEnc: input.upstreamSessionId ? encryptSecret(input.upstreamSessionId, upstreamSessionContext(id)) : null,
        protocolVersion: input.protocolVersion,
        ...(clientInfo === null ? {} : { clientInfo }),
      },
    });
    await recordAuditEvent(tx, {
      actor,
      action: "gateway.session_started",
      target: { type: "gateway_session", id },
      payload: { sessionId: id, serverId: server.id, protocolVersion: input.protocolVersion, clientName, upstreamStateful: input.upstreamSessionId !== null },
    });
  });
  return { id, downstreamSessionId };
}

/**
 * The agent's clientInfo as Postgres will store it: jsonb (and the audit payload) refuse NUL and
 * unpaired surrogates, which JSON allows, so those become U+FFFD. Without this an agent's odd
 * clientInfo failed the insert after the upstream had already opened its session (HTTP 500).
 * Depth is bounded by the gateway's body parser (MAX_JSON_DEPTH), so recursion is safe here.
 */
function storableJson(value: unknown): unknown {
  if (typeof value === "string") return value.toWellFormed().replaceAll("\u0000", "\ufffd");
  if (Array.isArray(value)) return value.map(storableJson);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableJson(k), storableJson(v)]));
  return value;
}
