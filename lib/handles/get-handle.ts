import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { AppError, invalidInput } from "@/lib/errors";
import { ZHandleDetailDto, type THandleDetailDto } from "./handle-detail-schemas";
import { handleStateOf } from "./handle-state";
import { ZAccessor } from "./schemas";

// Every column the page shows, and none of the secret ones (token hash, encrypted token,
// encrypted and hashed upstream task id): those are not even read.
const DETAIL_SELECT = {
  id: true,
  accessor: true,
  toolName: true,
  wire: true,
  audience: true,
  policyVersion: true,
  requestedTtlMs: true,
  upstreamTtlMs: true,
  effectiveTtlMs: true,
  status: true,
  statusMessage: true,
  createdAt: true,
  expiresAt: true,
  expiredAt: true,
  lastUpdatedAt: true,
  lastPolledAt: true,
  lastUsedAt: true,
  useCount: true,
  cancelState: true,
  cancelRequestedAt: true,
  cancelAttempts: true,
  cancelNextAttemptAt: true,
  revokedAt: true,
  revokeReason: true,
  revokeTrigger: true,
  revokedBy: { select: { id: true, name: true } },
  server: { select: { id: true, slug: true, name: true, enabled: true, removedAt: true } },
  principal: { select: { id: true, name: true, kind: true, email: true, disabledAt: true } },
  session: { select: { id: true, createdAt: true, endedAt: true, endReason: true, clientInfo: true } },
  apiKey: { select: { prefix: true, name: true, revokedAt: true } },
} as const;

export function handleNotFound(): AppError {
  return new AppError("NOT_FOUND", "No such handle.");
}

/** The accessor from untrusted input, or 422 naming the field. */
export function parseAccessor(value: unknown): string {
  const parsed = ZAccessor.safeParse(value);
  if (!parsed.success) throw invalidInput({ issues: parsed.error.issues.map((i) => ({ ...i, path: ["accessor"] })) });
  return parsed.data;
}

/**
 * One handle by its accessor: its binding (principal, session, audience, server, API key, policy
 * version and whether that version is still honoured), TTLs requested / upstream / effective,
 * status, cancel state and revocation, use count. A handle that does not exist is 404.
 */
export async function getHandle(input: { actor: TActor; accessor: unknown }): Promise<THandleDetailDto> {
  assertCan(input.actor, "handles.read");
  const accessor = parseAccessor(input.accessor);
  const db = getPrisma();
  const [row, policy] = await Promise.all([
    db.handle.findUnique({ where: { accessor }, select: DETAIL_SELECT }),
    db.handlePolicy.findFirst({ orderBy: { version: "desc" }, select: { version: true, minValidVersion: true } }),
  ]);
  if (!row) throw handleNotFound();
  const clientInfo = row.session?.clientInfo;
  const clientName = clientInfo && typeof clientInfo === "object" && !Array.isArray(clientInfo) && typeof clientInfo.name === "string" ? clientInfo.name : null;
  return ZHandleDetailDto.parse({
    ...handleStateOf(row),
    toolName: row.toolName,
    wire: row.wire,
    server: { id: row.server.id, slug: row.server.slug, name: row.server.name, enabled: row.server.enabled, removed: row.server.removedAt !== null },
    principal: { id: row.principal.id, name: row.principal.name, kind: row.principal.kind, email: row.principal.email, disabled: row.principal.disabledAt !== null },
    session: row.session ? { id: row.session.id, createdAt: row.session.createdAt, endedAt: row.session.endedAt, endReason: row.session.endReason, clientName } : null,
    apiKey: row.apiKey ? { prefix: row.apiKey.prefix, name: row.apiKey.name, revoked: row.apiKey.revokedAt !== null } : null,
    audience: row.audience,
    policy: { version: row.policyVersion, current: policy?.version ?? null, honoured: policy !== null && row.policyVersion >= policy.minValidVersion },
    ttl: { requestedMs: row.requestedTtlMs, upstreamMs: row.upstreamTtlMs, effectiveMs: row.effectiveTtlMs },
    statusMessage: row.statusMessage,
    createdAt: row.createdAt,
    expiredAt: row.expiredAt,
    lastUpdatedAt: row.lastUpdatedAt,
    lastPolledAt: row.lastPolledAt,
    lastUsedAt: row.lastUsedAt,
    useCount: row.useCount,
    cancel: { state: row.cancelState, requestedAt: row.cancelRequestedAt, attempts: row.cancelAttempts, nextAttemptAt: row.cancelNextAttemptAt },
    revocation: row.revokedAt ? { at: row.revokedAt, by: row.revokedBy, reason: row.revokeReason, trigger: row.revokeTrigger } : null,
  });
}
