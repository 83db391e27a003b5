// Handle rows inserted directly (no gateway, no audit event), for tests about what happens to
// handles: revocation by context changes, policy tightening, server removal. The secret columns
// hold placeholders that decrypt to nothing: these handles are never presented at the gateway.
import { randomUUID } from "node:crypto";
import type { TPrismaClient } from "@/lib/db/client";

export type THandleRowInput = {
  serverId: string;
  principalId: string;
  apiKeyId?: string | null;
  policyVersion?: number;
  createdAt?: Date;
  expiresAt?: Date;
  status?: "working" | "input_required" | "completed" | "failed" | "cancelled";
  /** Revoked (manually) at this time. */
  revokedAt?: Date | null;
  revokeReason?: string;
};

export async function insertHandle(db: TPrismaClient, input: THandleRowInput) {
  const createdAt = input.createdAt ?? new Date();
  const expiresAt = input.expiresAt ?? new Date(createdAt.getTime() + 3_600_000);
  return db.handle.create({
    data: {
      accessor: `hdl_${randomUUID().replace(/-/g, "")}`,
      tokenHash: `th-${randomUUID()}`,
      tokenEnc: "v1.test.test.test",
      upstreamTaskIdHash: `uh-${randomUUID()}`,
      upstreamTaskIdEnc: "v1.test.test.test",
      wire: "core_2025_11_25",
      serverId: input.serverId,
      principalId: input.principalId,
      apiKeyId: input.apiKeyId ?? null,
      audience: "https://tether.test/mcp/test",
      toolName: "simulate-research-query",
      policyVersion: input.policyVersion ?? 1,
      effectiveTtlMs: Math.max(1, expiresAt.getTime() - createdAt.getTime()),
      createdAt,
      expiresAt,
      status: input.status ?? "working",
      ...(input.revokedAt ? { revokedAt: input.revokedAt, revokeReason: input.revokeReason ?? "earlier", revokeTrigger: "manual" } : {}),
    },
  });
}
