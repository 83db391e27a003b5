import "server-only";
import type { NextRequest } from "next/server";
import { authenticateApiKey } from "@/lib/api-keys/authenticate-api-key";
import type { TActor } from "@/lib/auth/actor";
import { getCurrentActor } from "@/lib/auth/current-actor";
import { getEnv } from "@/lib/env";
import { AppError, isAppError } from "@/lib/errors";
import { describeErrorForLog, log } from "@/lib/log";
import { REQUEST_ID_HEADER, normaliseRequestId, requestMetaFrom } from "./request-meta";

export type TApiContext<P> = { request: NextRequest; actor: TActor; params: P; requestId: string };

/** The one error body of the REST API. */
export function errorResponse(err: AppError, requestId: string): Response {
  return Response.json(
    { error: { code: err.code, message: err.message, ...(err.issues ? { issues: err.issues } : {}) } },
    { status: err.status, headers: { [REQUEST_ID_HEADER]: requestId, "Cache-Control": "no-store" } },
  );
}

/**
 * The origins the console is served at for this request: the one the browser addressed (Host
 * header), the configured public URL, and Next's own idea of it. A cross-site page's requests
 * carry its own origin, which is none of these.
 */
function consoleOrigins(request: NextRequest): Set<string> {
  const origins = new Set([request.nextUrl.origin]);
  const host = request.headers.get("host");
  if (host) origins.add(`${request.nextUrl.protocol}//${host}`);
  for (const configured of [getEnv().TETHER_PUBLIC_URL, process.env.NEXTAUTH_URL]) {
    if (!configured) continue;
    try {
      origins.add(new URL(configured).origin);
    } catch {
      /* reported by lib/env.ts */
    }
  }
  return origins;
}

/**
 * Adapter for /api/v1 route handlers: resolves the actor, runs the handler, and translates
 * errors once. Permission checks are the use case's job, not this wrapper's. State-changing
 * methods must come from the console's own origin when authenticated by cookie (CSRF).
 */
export function apiRoute<P = Record<string, never>>(handler: (ctx: TApiContext<P>) => Promise<Response>) {
  return async (request: NextRequest, context: { params: Promise<P> }): Promise<Response> => {
    const requestId = normaliseRequestId(request.headers.get(REQUEST_ID_HEADER));
    try {
      if (!["GET", "HEAD", "OPTIONS"].includes(request.method)) {
        const origin = request.headers.get("origin");
        if (origin && !consoleOrigins(request).has(origin)) throw new AppError("FORBIDDEN", "Cross-site request refused.");
      }
      const actor = await resolveActor(request, requestId);
      if (!actor) throw new AppError("UNAUTHENTICATED", "Sign in, or send a valid API key.");
      return await handler({ request, actor, params: await context.params, requestId });
    } catch (err) {
      if (isAppError(err) && err.status < 500) return errorResponse(err, requestId);
      log.error({ requestId, err: describeErrorForLog(err) }, "API request failed");
      return errorResponse(new AppError("INTERNAL", `Internal error. Request id: ${requestId}`), requestId);
    }
  };
}

// An agent sends `Authorization: Bearer tth_…`; anything else falls back to the console session.
const API_KEY_BEARER = /^\s*Bearer\s+(tth_.*?)\s*$/i;

/** The API key's agent when one is sent (a bad key is 401, never a fall-back to the cookie), else the console user. */
async function resolveActor(request: NextRequest, requestId: string): Promise<TActor | null> {
  const bearer = API_KEY_BEARER.exec(request.headers.get("authorization") ?? "");
  if (!bearer) return getCurrentActor();
  const actor = await authenticateApiKey(bearer[1]!, { ...requestMetaFrom(request.headers), requestId });
  if (!actor) throw new AppError("UNAUTHENTICATED", "Invalid or expired API key.");
  return actor;
}
