// Rows and actors for integration tests. Every value that must be unique (emails, OIDC subjects,
// request ids) is random, so tests never collide on the run's shared database.
import { randomUUID } from "node:crypto";
import type { TActor, TRequestMeta } from "@/lib/auth/actor";
import { hashPassword } from "@/lib/auth/password";
import type { TRole } from "@/lib/auth/permissions";
import type { TPrismaClient } from "@/lib/db/client";

export type TUserActor = Extract<TActor, { type: "user" }>;
type TPrincipalRow = Awaited<ReturnType<TPrismaClient["principal"]["create"]>>;
type TConsoleSessionRow = Awaited<ReturnType<TPrismaClient["consoleSession"]["create"]>>;

/** A lower-case address no other test uses. */
export function uniqueEmail(label = "user"): string {
  return `${label}-${randomUUID()}@example.test`;
}

/** Request metadata with a request id of its own, so audit rows can be found by it. */
export function newRequest(overrides: Partial<TRequestMeta> = {}): TRequestMeta {
  return { requestId: `req-${randomUUID()}`, ...overrides };
}

/** A unique client address in the IPv6 documentation range, so rate-limit counters of tests never collide. */
export function uniqueIp(): string {
  const hex = randomUUID().replace(/-/g, "");
  return `2001:db8:${hex.slice(0, 4)}:${hex.slice(4, 8)}:${hex.slice(8, 12)}:${hex.slice(12, 16)}::1`;
}

/** A fabricated console user; no principal row stands behind it unless the test makes one. */
export function userActor(role: TRole, overrides: Partial<Omit<TUserActor, "type">> = {}): TUserActor {
  const id = overrides.id ?? randomUUID();
  return { type: "user", id, role, name: `${role} ${id.slice(0, 8)}`, email: null, request: newRequest(), ...overrides };
}

/** The actor a principal row acts as in the console. */
export function actorFor(principal: TPrincipalRow, request: TRequestMeta = newRequest()): TUserActor {
  return { type: "user", id: principal.id, role: principal.role, name: principal.name, email: principal.email, request };
}

export type TPrincipalOverrides = {
  kind?: "user" | "service";
  role?: TRole;
  email?: string | null;
  name?: string;
  /** Stored as an argon2id hash, as createUser does. */
  password?: string;
  disabled?: boolean;
  oidc?: { issuer: string; subject: string };
};

/** Inserts a principal directly (no use case, no audit event). */
export async function createPrincipal(prisma: TPrismaClient, overrides: TPrincipalOverrides = {}): Promise<TPrincipalRow> {
  const kind = overrides.kind ?? "user";
  const email = overrides.email === undefined ? uniqueEmail(kind) : overrides.email;
  return prisma.principal.create({
    data: {
      kind,
      role: overrides.role ?? "viewer",
      email,
      name: overrides.name ?? `Test ${kind} ${randomUUID().slice(0, 8)}`,
      passwordHash: overrides.password === undefined ? null : await hashPassword(overrides.password),
      oidcIssuer: overrides.oidc?.issuer ?? null,
      oidcSubject: overrides.oidc?.subject ?? null,
      disabledAt: overrides.disabled ? new Date() : null,
    },
  });
}

/** Inserts a console session for `principal` (active for an hour unless overridden). */
export async function createConsoleSession(
  prisma: TPrismaClient,
  principal: { id: string },
  overrides: { expiresAt?: Date; endedAt?: Date | null; endReason?: string | null; provider?: string } = {},
): Promise<TConsoleSessionRow> {
  return prisma.consoleSession.create({
    data: {
      principalId: principal.id,
      provider: overrides.provider ?? "credentials",
      expiresAt: overrides.expiresAt ?? new Date(Date.now() + 3_600_000),
      endedAt: overrides.endedAt ?? null,
      endReason: overrides.endReason ?? null,
    },
  });
}
