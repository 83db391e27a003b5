import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { decryptSecret, keyedHash, safeEqual } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { Prisma } from "@/lib/db/generated/client";
import { handleTokenContext } from "./handle-token";

const PAGE_SIZE = 50;

export type TListedTask = {
  taskId: string;
  status: string;
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttl: number;
  pollInterval?: number;
};

export class InvalidCursorError extends Error {}
/** The policy in force does not allow tasks/list. */
export class ListNotAllowedError extends Error {}

type TScope = { principalId: string; serverId: string; sessionId: string | null };

// Keyset cursor over (created_at, id), signed with the caller's scope: opaque to the agent, and
// useless to anyone else or after a change of session.
function signCursor(scope: TScope, createdAt: Date, id: string): string {
  const body = Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString("base64url");
  return `${body}.${mac(scope, body)}`;
}

function mac(scope: TScope, body: string): string {
  return keyedHash("list-cursor", `${scope.principalId}\0${scope.serverId}\0${scope.sessionId ?? ""}\0${body}`).slice(0, 32);
}

function readCursor(scope: TScope, cursor: string): { createdAt: Date; id: string } {
  const [body, sig] = cursor.split(".");
  if (!body || !sig || !safeEqual(sig, mac(scope, body))) throw new InvalidCursorError();
  const [createdAt, id] = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as [string, string];
  return { createdAt: new Date(createdAt), id };
}

/**
 * `tasks/list` answered from Tether's own table, never passed upstream: the caller's live handles
 * at this server (and in this session when the policy binds sessions), newest first. Exactly
 * the handles tasks/get would accept (spec: list ⊇ get-able, nothing else): never the 2026-07-28
 * wire's, which no session may use (that wire has no tasks/list). Audited.
 */
export async function listAgentTasks(input: { actor: TActor; serverId: string; sessionId: string; cursor: unknown }): Promise<{ tasks: TListedTask[]; nextCursor?: string }> {
  const { actor } = input;
  const db = getPrisma();
  const policy = await db.handlePolicy.findFirst({ orderBy: { version: "desc" }, select: { requireSessionBinding: true, minValidVersion: true, allowedOperations: true } });
  if (!policy) return { tasks: [] };
  if (!policy.allowedOperations.includes("tasks/list")) throw new ListNotAllowedError();
  const scope: TScope = { principalId: actor.id, serverId: input.serverId, sessionId: policy.requireSessionBinding ? input.sessionId : null };
  if (input.cursor !== undefined && typeof input.cursor !== "string") throw new InvalidCursorError();
  let after: { createdAt: Date; id: string } | null = null;
  try {
    after = input.cursor ? readCursor(scope, input.cursor) : null;
  } catch {
    throw new InvalidCursorError();
  }
  const rows = await db.$queryRaw<
    Array<{ id: string; token_enc: string; status: string; status_message: string | null; created_at: Date; last_updated_at: Date; effective_ttl_ms: number; poll_interval_ms: number | null }>
  >`
    SELECT id::text AS id, token_enc, status::text AS status, status_message, created_at, last_updated_at, effective_ttl_ms, poll_interval_ms
      FROM handle
     WHERE principal_id = ${actor.id}::uuid AND server_id = ${input.serverId}::uuid
       AND revoked_at IS NULL AND expires_at > now() AND policy_version >= ${policy.minValidVersion}
       AND status <> 'expired_upstream' AND wire = 'core_2025_11_25'
       ${scope.sessionId ? Prisma.sql`AND session_id = ${scope.sessionId}::uuid` : Prisma.empty}
       ${after ? Prisma.sql`AND (created_at, id) < (${after.createdAt}, ${after.id}::uuid)` : Prisma.empty}
     ORDER BY created_at DESC, id DESC
     LIMIT ${PAGE_SIZE + 1}`;
  const page = rows.slice(0, PAGE_SIZE);
  const tasks = page.map((r) => ({
    taskId: decryptSecret(r.token_enc, handleTokenContext(r.id)),
    status: r.status,
    ...(r.status_message === null ? {} : { statusMessage: r.status_message }),
    createdAt: r.created_at.toISOString(),
    lastUpdatedAt: r.last_updated_at.toISOString(),
    ttl: r.effective_ttl_ms,
    ...(r.poll_interval_ms === null ? {} : { pollInterval: r.poll_interval_ms }),
  }));
  await db.$transaction((tx) =>
    recordAuditEvent(tx, {
      actor,
      action: "gateway.tasks_listed",
      target: { type: "gateway_session", id: input.sessionId },
      payload: { serverId: input.serverId, sessionId: input.sessionId, count: tasks.length },
    }),
  );
  const last = page.at(-1);
  return rows.length > PAGE_SIZE && last ? { tasks, nextCursor: signCursor(scope, last.created_at, last.id) } : { tasks };
}
