import type { TRole } from "./permissions";

/** Where a request came from; recorded on every audit event it causes. */
export type TRequestMeta = {
  requestId: string;
  ip?: string | undefined;
  userAgent?: string | undefined;
};

/** Who is acting. `system` is Tether's own workers and start-up tasks. */
export type TActor =
  | { type: "user"; id: string; role: TRole; name: string; email: string | null; sessionId?: string; request: TRequestMeta }
  | { type: "service"; id: string; role: TRole; name: string; apiKeyId?: string; request: TRequestMeta }
  | { type: "system"; id: "system"; name: string; request: TRequestMeta };

export function systemActor(name: string, requestId: string): TActor {
  return { type: "system", id: "system", name, request: { requestId } };
}
