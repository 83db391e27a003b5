import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { getEnv } from "@/lib/env";
import { AppError, invalidInput } from "@/lib/errors";
import { defaultAudience } from "./default-audience";
import { probeFailedError } from "./probe-failed-error";
import { probeUpstream } from "./probe-upstream";
import { declaredColumns, recordServerCheck } from "./record-server-check";
import { ZRegisterServerInput, type TProbeResult, type TServerDto } from "./schemas";
import { resolveCredentials } from "./resolve-credentials";
import { encryptCredentials } from "./server-credentials";
import { SERVER_DTO_SELECT, toServerDtos } from "./to-server-dtos";

export type TServerSaveResult = { server: TServerDto; check: TProbeResult };

export function slugTakenError(): AppError {
  const message = "A server with this slug exists or existed (slugs of removed servers are not reused).";
  return new AppError("CONFLICT", message, { issues: [{ path: "slug", message }] });
}

/**
 * Registers an upstream MCP server. Tether first connects with the given credentials and runs
 * `initialize` and `tools/list`; the server is saved enabled only when that worked and it speaks
 * a task wire. Otherwise the admin is told exactly what failed, and it is saved only with
 * `force`, then disabled. The credentials (a bearer token or OAuth client credentials) are
 * stored encrypted and their secret is never returned.
 */
export async function registerServer(input: { actor: TActor; data: unknown }): Promise<TServerSaveResult> {
  assertCan(input.actor, "servers.manage");
  const parsed = ZRegisterServerInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { actor } = input;
  const data = parsed.data;
  const db = getPrisma();

  // Before the (slower) connection check, so a taken slug is reported at once.
  if (await db.mcpServer.findUnique({ where: { slug: data.slug }, select: { id: true } })) throw slugTakenError();

  const { next: credentials } = resolveCredentials({ stored: null, currentUrl: null, nextUrl: data.url, bearerToken: data.bearerToken, oauth: data.oauth });
  const given = credentials === "unreadable" ? null : credentials;
  const check = await probeUpstream({ url: data.url, credentials: { given }, timeoutMs: getEnv().TETHER_SERVER_PROBE_TIMEOUT_MS, listTools: true });
  if (!check.ok && !data.force) throw probeFailedError(check, undefined, given?.type ?? "none");
  const enabled = check.ok;
  const audience = data.audience ?? defaultAudience(data.slug);

  try {
    const server = await db.$transaction(async (tx) => {
      const row = await tx.mcpServer.create({
        data: {
          slug: data.slug,
          name: data.name,
          url: data.url,
          audience,
          credentialsEnc: given ? encryptCredentials(data.slug, given) : null,
          enabled,
          pollMinMs: data.pollMinMs,
          pollMaxMs: data.pollMaxMs,
          pollConcurrency: data.pollConcurrency,
          tags: data.tags,
          ...(check.details ? declaredColumns(check.details) : {}),
          lastError: check.problem?.message ?? null,
          lastErrorKind: check.problem?.kind ?? null,
          nextHealthCheckAt: null,
        },
        select: { id: true },
      });
      await recordAuditEvent(tx, {
        actor,
        action: "server.registered",
        target: { type: "mcp_server", id: row.id },
        payload: { slug: data.slug, url: data.url, audience, credentials: given?.type ?? "none", enabled, taskWires: check.details?.taskWires ?? [], problem: check.problem?.kind ?? null },
      });
      // The registration's check is the server's first health check.
      if (enabled) await recordServerCheck(tx, { server: { id: row.id, slug: data.slug, health: "unknown", consecutiveFailures: 0 }, result: check, requestId: actor.request.requestId });
      const [dto] = await toServerDtos(tx, [await tx.mcpServer.findUniqueOrThrow({ where: { id: row.id }, select: SERVER_DTO_SELECT })]);
      return dto!;
    });
    return { server, check };
  } catch (err) {
    if ((err as { code?: string }).code === "P2002") throw slugTakenError();
    throw err;
  }
}
