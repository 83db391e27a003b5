import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { getEnv } from "@/lib/env";
import { invalidInput } from "@/lib/errors";
import { findVisibleServer, serverIdOf } from "./find-visible-server";
import { probeUpstream } from "./probe-upstream";
import { ZProbeServerInput, type TProbeResult } from "./schemas";
import { originOf, readBearerToken, tokenMustBeReentered } from "./server-credentials";

/**
 * A dry run of the connection check: for a URL and token, or for a registered server (with its
 * stored token unless another is given, and only at its own origin). Writes nothing.
 */
export async function probeServer(input: { actor: TActor; data: unknown }): Promise<TProbeResult> {
  assertCan(input.actor, "servers.manage");
  const hasId = Boolean(input.data && typeof input.data === "object" && (input.data as { serverId?: unknown }).serverId !== undefined);
  const serverId = hasId ? serverIdOf(input.data) : undefined;
  const parsed = ZProbeServerInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { url, bearerToken } = parsed.data;

  let target = { url: url!, bearerToken: bearerToken ?? null };
  if (serverId) {
    const server = await findVisibleServer(getPrisma(), serverId);
    const nextUrl = url ?? server.url;
    if (bearerToken === undefined && server.credentialsEnc && originOf(nextUrl) !== originOf(server.url)) throw tokenMustBeReentered();
    target = { url: nextUrl, bearerToken: bearerToken ?? readBearerToken(server.slug, server.credentialsEnc) };
  }
  return probeUpstream({ ...target, timeoutMs: getEnv().TETHER_SERVER_PROBE_TIMEOUT_MS, listTools: true });
}
