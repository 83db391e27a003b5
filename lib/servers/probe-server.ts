import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { getEnv } from "@/lib/env";
import { invalidInput } from "@/lib/errors";
import { findVisibleServer, serverIdOf } from "./find-visible-server";
import { probeUpstream } from "./probe-upstream";
import { ZProbeServerInput, type TProbeResult } from "./schemas";
import { resolveCredentials, storedCredentialsOf } from "./resolve-credentials";

/**
 * A dry run of the connection check: for a URL and credentials, or for a registered server (with
 * its stored credentials unless others are given, and only at its own origin). Writes nothing.
 */
export async function probeServer(input: { actor: TActor; data: unknown }): Promise<TProbeResult> {
  assertCan(input.actor, "servers.manage");
  const hasId = Boolean(input.data && typeof input.data === "object" && (input.data as { serverId?: unknown }).serverId !== undefined);
  const serverId = hasId ? serverIdOf(input.data) : undefined;
  const parsed = ZProbeServerInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { url, bearerToken, oauth } = parsed.data;
  const server = serverId ? await findVisibleServer(getPrisma(), serverId) : null;
  const nextUrl = url ?? server!.url;
  const resolved = resolveCredentials({
    stored: server ? storedCredentialsOf(server) : null,
    currentUrl: server?.url ?? null,
    nextUrl,
    bearerToken,
    oauth,
  });
  const credentials = server && resolved.change === "keep" ? { server } : { given: resolved.next === "unreadable" ? null : resolved.next };
  return probeUpstream({ url: nextUrl, credentials, timeoutMs: getEnv().TETHER_SERVER_PROBE_TIMEOUT_MS, listTools: true });
}
