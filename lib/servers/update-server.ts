import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import type { Prisma } from "@/lib/db/generated/client";
import { getEnv } from "@/lib/env";
import { AppError, invalidInput } from "@/lib/errors";
import { findVisibleServer, lockVisibleServer, serverIdOf } from "./find-visible-server";
import { probeFailedError } from "./probe-failed-error";
import { probeUpstream } from "./probe-upstream";
import { declaredColumns, recordServerCheck } from "./record-server-check";
import type { TServerSaveResult } from "./register-server";
import { ZUpdateServerInput, type TProbeResult } from "./schemas";
import { resolveCredentials, storedCredentialsOf } from "./resolve-credentials";
import { encryptCredentials } from "./server-credentials";
import { countLiveHandles } from "./count-live-handles";
import { SERVER_DTO_SELECT, toServerDtos } from "./to-server-dtos";
import { settledAfter } from "@/lib/gateway/gateway-cache";

/** JSON equality that ignores key order (jsonb does not keep it). */
function sameJson(a: unknown, b: unknown): boolean {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)).map(([k, x]) => [k, canonical(x)])) : v;
  return JSON.stringify(canonical(a ?? null)) === JSON.stringify(canonical(b ?? null));
}

/**
 * Edits a registered server. The slug is fixed. A new URL or new credentials (or `recheck`) run
 * the connection check again and record what the server declares now; a failing check saves
 * only with `force`, and then disables the server. `server.updated` names the changed fields
 * (for OAuth client credentials also which settings changed), never a credential value.
 */
export async function updateServer(input: { actor: TActor; data: unknown }): Promise<Omit<TServerSaveResult, "check"> & { check: TProbeResult | null }> {
  assertCan(input.actor, "servers.manage");
  const serverId = serverIdOf(input.data);
  const parsed = ZUpdateServerInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const data = parsed.data;
  const { actor } = input;
  const db = getPrisma();

  const current = await findVisibleServer(db, serverId);
  if (data.slug !== undefined && data.slug.trim() !== current.slug) {
    const message = "The slug cannot change: the gateway URL /mcp/{slug} and the encryption of the stored credentials depend on it.";
    throw new AppError("INVALID_INPUT", message, { issues: [{ path: "slug", message }] });
  }
  const next = {
    name: data.name ?? current.name,
    url: data.url ?? current.url,
    audience: data.audience ?? current.audience,
    pollMinMs: data.pollMinMs ?? current.pollMinMs,
    pollMaxMs: data.pollMaxMs ?? current.pollMaxMs,
    pollConcurrency: data.pollConcurrency ?? current.pollConcurrency,
    tags: data.tags ?? current.tags,
  };
  if (next.pollMinMs > next.pollMaxMs) {
    const message = "The minimum poll interval cannot exceed the maximum.";
    throw new AppError("INVALID_INPUT", message, { issues: [{ path: "pollMinMs", message }] });
  }
  const credentials = resolveCredentials({
    stored: storedCredentialsOf(current),
    currentUrl: current.url,
    nextUrl: next.url,
    bearerToken: data.bearerToken,
    oauth: data.oauth,
    clear: data.clearCredentials,
  });
  const credentialsChange = credentials.change;

  const connectionChanged = next.url !== current.url || credentialsChange !== "keep";
  let check: TProbeResult | null = null;
  if (connectionChanged || data.recheck) {
    const given = credentials.next === "unreadable" ? null : credentials.next;
    check = await probeUpstream({
      url: next.url,
      // Kept credentials are checked as the gateway uses them (their cached OAuth token included).
      credentials: credentialsChange === "keep" ? { server: current } : { given },
      timeoutMs: getEnv().TETHER_SERVER_PROBE_TIMEOUT_MS,
      listTools: true,
    });
    if (!check.ok && !data.force) throw probeFailedError(check, "save anyway (force); the server is then disabled", given?.type ?? "none");
  }

  const server = await settledAfter(db.$transaction(async (tx) => {
    const locked = await lockVisibleServer(tx, serverId);
    // Compared field by field, not by updated_at: health checks touch the row all the time.
    const configOf = (r: typeof current) => [r.name, r.url, r.audience, r.credentialsEnc, r.pollMinMs, r.pollMaxMs, r.pollConcurrency, r.tags, r.enabled];
    if (!sameJson(configOf(locked), configOf(current))) {
      throw new AppError("CONFLICT", "This server was changed by someone else meanwhile. Reload the page and make your change again.");
    }
    const changes: string[] = [];
    const update: Prisma.McpServerUpdateInput = {};
    for (const field of ["name", "url", "audience", "pollMinMs", "pollMaxMs", "pollConcurrency"] as const) {
      if (next[field] !== current[field]) {
        changes.push(field);
        Object.assign(update, { [field]: next[field] });
      }
    }
    if (!sameJson(next.tags, current.tags)) {
      changes.push("tags");
      update.tags = next.tags;
    }
    if (credentialsChange !== "keep") {
      changes.push(...credentials.changes);
      update.credentialsEnc = credentialsChange === "set" && credentials.next && credentials.next !== "unreadable" ? encryptCredentials(current.slug, credentials.next) : null;
    }
    let disabledNow = false;
    if (check?.details) {
      const declared = declaredColumns(check.details);
      for (const [field, value] of Object.entries(declared) as Array<[keyof typeof declared, unknown]>) {
        if (!sameJson(value, current[field])) {
          changes.push(field);
          Object.assign(update, { [field]: value });
        }
      }
    }
    // A failed check (and any check of a disabled server) is shown next to the server until the
    // next one; an enabled server's successful check is recorded as a health check below.
    const status: Prisma.McpServerUpdateInput = {};
    if (check && (!check.ok || !current.enabled)) {
      status.lastError = check.problem?.message ?? null;
      status.lastErrorKind = check.problem?.kind ?? null;
    }
    if (check && !check.ok) {
      if (current.enabled) {
        disabledNow = true;
        changes.push("enabled");
        update.enabled = false;
        update.nextHealthCheckAt = null;
      }
    }
    if (changes.length > 0 || Object.keys(status).length > 0) await tx.mcpServer.update({ where: { id: serverId }, data: { ...update, ...status } });
    if (changes.length > 0) {
      await recordAuditEvent(tx, {
        actor,
        action: "server.updated",
        target: { type: "mcp_server", id: serverId },
        payload: { slug: current.slug, changes, problem: check?.problem?.kind ?? null },
      });
    }
    if (disabledNow) {
      await recordAuditEvent(tx, {
        actor,
        action: "server.disabled",
        target: { type: "mcp_server", id: serverId },
        reason: `saved with a failing connection check (${check!.problem!.kind})`,
        payload: { slug: current.slug, liveHandles: await countLiveHandles(tx, serverId) },
      });
    }
    // An enabled server's check is also a health check.
    if (check?.ok && current.enabled) {
      await recordServerCheck(tx, { server: { id: serverId, slug: current.slug, health: current.health, consecutiveFailures: current.consecutiveFailures }, result: check, requestId: actor.request.requestId });
    }
    const [dto] = await toServerDtos(tx, [await tx.mcpServer.findUniqueOrThrow({ where: { id: serverId }, select: SERVER_DTO_SELECT })]);
    return dto!;
  }));
  return { server, check };
}
