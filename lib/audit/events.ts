// The typed audit event model: one entry per action with its payload schema. Payloads
// never hold secrets; a handle appears by its accessor, a secret value only as a keyed hash.
import { z } from "zod";
import { ROLES } from "@/lib/auth/permissions";

const ZRole = z.enum(ROLES);

export const AUDIT_PAYLOADS = {
  "auth.signed_in": z.object({ provider: z.string(), sessionId: z.string() }),
  "auth.sign_in_failed": z.object({
    provider: z.string(),
    // Which account was tried, as a keyed hash (the address may be a typo of a password).
    emailHash: z.string().optional(),
    cause: z.enum(["bad_credentials", "disabled", "rate_limited", "no_role", "invalid_input"]),
  }),
  "auth.signed_out": z.object({ sessionId: z.string() }),
  "auth.session_expired": z.object({ sessionId: z.string() }),
  "user.created": z.object({ email: z.string().nullable(), role: ZRole, kind: z.enum(["user", "service"]) }),
  "user.role_changed": z.object({ from: ZRole, to: ZRole }),
  "user.role_change_refused": z.object({ from: ZRole, to: ZRole }),
  "user.disabled": z.object({ endedSessions: z.number().int() }),
  "user.enabled": z.object({}),
  "user.password_set": z.object({}),
  "policy.changed": z.object({ version: z.number().int(), changes: z.record(z.string(), z.json()) }),
  "server.registered": z.object({ slug: z.string(), url: z.string(), audience: z.string() }),
  "api_key.created": z.object({ prefix: z.string(), principalId: z.string(), expiresAt: z.string().nullable() }),
  "system.started": z.object({ version: z.string(), mode: z.enum(["embedded", "external"]) }),
} as const;

export type TAuditAction = keyof typeof AUDIT_PAYLOADS;
export type TAuditPayload<A extends TAuditAction> = z.infer<(typeof AUDIT_PAYLOADS)[A]>;

export const AUDIT_ACTIONS = Object.keys(AUDIT_PAYLOADS) as TAuditAction[];
