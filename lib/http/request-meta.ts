import { randomUUID } from "node:crypto";
import type { TRequestMeta } from "@/lib/auth/actor";

export const REQUEST_ID_HEADER = "x-request-id";
/** Path and query of the page being rendered, set by proxy.ts (layouts cannot see it otherwise). */
export const REQUEST_PATH_HEADER = "x-tether-path";
/**
 * When this server received the request (Date.now(), as a string), set by proxy.ts over whatever
 * the client sent: a page is rendered from data read after this moment, so a change committed
 * since may be missing from it (see GET /api/live?since=).
 */
export const REQUEST_RECEIVED_AT_HEADER = "x-tether-received-at";
const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{8,80}$/;

/** The moment proxy.ts stamped on this request, or null outside a stamped request. */
export function receivedAtFrom(headers: Headers): number | null {
  const value = headers.get(REQUEST_RECEIVED_AT_HEADER);
  return value && /^\d{1,15}$/.test(value) ? Number(value) : null;
}

/** A request id from upstream infrastructure is kept only when it is plainly an id. */
export function normaliseRequestId(value: string | null | undefined): string {
  return value && SAFE_REQUEST_ID.test(value) ? value : randomUUID();
}

/** Request facts recorded on audit events. Proxy (proxy.ts) guarantees the request id. */
export function requestMetaFrom(headers: Pick<Headers, "get">): TRequestMeta {
  const forwarded = headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return {
    requestId: normaliseRequestId(headers.get(REQUEST_ID_HEADER)),
    ip: (forwarded || headers.get("x-real-ip") || undefined)?.slice(0, 64),
    userAgent: headers.get("user-agent")?.slice(0, 512) ?? undefined,
  };
}
