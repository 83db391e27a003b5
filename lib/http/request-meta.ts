import { randomUUID } from "node:crypto";
import type { TRequestMeta } from "@/lib/auth/actor";

export const REQUEST_ID_HEADER = "x-request-id";
/** Path and query of the page being rendered, set by proxy.ts (layouts cannot see it otherwise). */
export const REQUEST_PATH_HEADER = "x-tether-path";
const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{8,80}$/;

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
