// Service accounts (agent principals) and their API keys: inputs and the DTOs that any page or
// API response may show. DTOs are parsed through their schema, so the key hash can never leak.
import { z } from "zod";
import { ZRole } from "@/lib/auth/schemas";

export const API_KEY_DEFAULT_EXPIRY_DAYS = 90;
export const API_KEY_MAX_EXPIRY_DAYS = 365;

const ZReason = z
  .string({ message: "Give a reason (at least 3 characters)." })
  .trim()
  .min(3, "Give a reason (at least 3 characters).")
  .max(500, "A reason has at most 500 characters.");

export const ZServiceAccountId = z.string({ message: "Unknown service account." }).uuid("Unknown service account.");
export const ZApiKeyId = z.string({ message: "Unknown API key." }).uuid("Unknown API key.");

export const ZCreateServiceAccountInput = z.object({
  name: z.string({ message: "Enter a name." }).trim().min(1, "Enter a name.").max(120, "A name has at most 120 characters."),
  // The role governs what the agent may do through the REST API, exactly as for a console user.
  role: ZRole.default("viewer"),
});
export type TCreateServiceAccountInput = z.input<typeof ZCreateServiceAccountInput>;

export const ZSetServiceAccountDisabledInput = z.object({
  principalId: ZServiceAccountId,
  disabled: z.boolean({ message: "Say whether to disable or enable the account." }),
  reason: ZReason,
});

export const ZCreateApiKeyInput = z.object({
  principalId: ZServiceAccountId,
  name: z.string({ message: "Enter a name for the key." }).trim().min(1, "Enter a name for the key.").max(100, "A key name has at most 100 characters."),
  // null: the key never expires (an explicit choice; the default is 90 days).
  expiresInDays: z
    .number({ message: `Choose an expiry between 1 and ${API_KEY_MAX_EXPIRY_DAYS} days, or none.` })
    .int(`Choose a whole number of days between 1 and ${API_KEY_MAX_EXPIRY_DAYS}.`)
    .min(1, `Choose an expiry between 1 and ${API_KEY_MAX_EXPIRY_DAYS} days, or none.`)
    .max(API_KEY_MAX_EXPIRY_DAYS, `Choose an expiry between 1 and ${API_KEY_MAX_EXPIRY_DAYS} days, or none.`)
    .nullable()
    .default(API_KEY_DEFAULT_EXPIRY_DAYS),
});
export type TCreateApiKeyInput = z.input<typeof ZCreateApiKeyInput>;

export const ZListApiKeysInput = z.object({ principalId: ZServiceAccountId.optional() });

export const ZRevokeApiKeyInput = z.object({ keyId: ZApiKeyId, reason: ZReason });

export const API_KEY_STATUSES = ["active", "expired", "revoked"] as const;
export type TApiKeyStatus = (typeof API_KEY_STATUSES)[number];

export function apiKeyStatus(key: { revokedAt: Date | null; expiresAt: Date | null }, now = new Date()): TApiKeyStatus {
  if (key.revokedAt) return "revoked";
  if (key.expiresAt && key.expiresAt <= now) return "expired";
  return "active";
}

const ZPrincipalRef = z.object({ id: z.string(), name: z.string() });

export const ZServiceAccountDto = z.object({
  id: z.string(),
  name: z.string(),
  role: ZRole,
  disabledAt: z.date().nullable(),
  createdAt: z.date(),
  activeKeys: z.number().int(),
});
export type TServiceAccountDto = z.infer<typeof ZServiceAccountDto>;

/** What any page or API may show of an API key: never its hash, and the key itself only once, at creation. */
export const ZApiKeyDto = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  principal: ZPrincipalRef.extend({ disabled: z.boolean() }),
  createdAt: z.date(),
  createdBy: ZPrincipalRef.nullable(),
  expiresAt: z.date().nullable(),
  lastUsedAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
  status: z.enum(API_KEY_STATUSES),
});
export type TApiKeyDto = z.infer<typeof ZApiKeyDto>;

/** The one shape in which a new key leaves the server: its full secret, next to its DTO. */
export type TCreatedApiKey = { key: string; dto: TApiKeyDto };
