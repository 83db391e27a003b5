import "server-only";
import type { TRequestMeta } from "./actor";

/** The console session a sign-in creates; its id is the only thing the session cookie carries. */
export type TSignedIn = { principalId: string; sessionId: string; name: string; email: string | null; role: string };

export function sessionExpiry(maxAgeHours: number, from = new Date()): Date {
  return new Date(from.getTime() + maxAgeHours * 3_600_000);
}

export function trimMeta(meta: TRequestMeta): TRequestMeta {
  return {
    requestId: meta.requestId,
    ip: meta.ip?.slice(0, 64),
    userAgent: meta.userAgent?.slice(0, 512),
  };
}
