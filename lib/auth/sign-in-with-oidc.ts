import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import { keyedHash } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type { TActor, TRequestMeta } from "./actor";
import { lockAdmins } from "@/lib/users/lock-admins";
import { mapOidcRole, readClaim } from "./map-oidc-role";
import { sessionExpiry, trimMeta, type TSignedIn } from "./request-session";

export type TOidcIdentity = { issuer: string; subject: string; claims: Record<string, unknown> };

/**
 * Signs in an identity the OpenID provider vouched for (next-auth has checked the ID
 * token, state and PKCE). The IdP is the source of truth for the role: it is mapped again
 * at every sign-in and a change is audited. Principals are matched by (issuer, subject);
 * an existing account with the same email is linked only when the IdP says the email is verified.
 */
export async function signInWithOidc(input: { identity: TOidcIdentity; request: TRequestMeta }): Promise<TSignedIn> {
  const env = getEnv();
  const db = getPrisma();
  const request = trimMeta(input.request);
  const { issuer, subject, claims } = input.identity;
  const anonymous: TActor = { type: "system", id: "system", name: "sign-in", request };
  const email = typeof claims.email === "string" ? claims.email.trim().toLowerCase() : null;
  const emailVerified = claims.email_verified === true;
  const name = [claims.name, claims.preferred_username, email, subject].find((v): v is string => typeof v === "string" && v.length > 0)!;

  const role = mapOidcRole(readClaim(claims, env.OIDC_ROLE_CLAIM), env.OIDC_ROLE_MAP, env.OIDC_DEFAULT_ROLE);
  if (!role) {
    await db.$transaction((tx) =>
      recordAuditEvent(tx, {
        actor: anonymous,
        action: "auth.sign_in_failed",
        outcome: "denied",
        reason: `no role mapped from claim ${env.OIDC_ROLE_CLAIM}`,
        payload: { provider: "oidc", ...(email ? { emailHash: keyedHash("audit-ref", `email:${email}`) } : {}), cause: "no_role" },
      }),
    );
    throw new AppError("FORBIDDEN", "Your account has no Tether role. Ask an administrator for access.");
  }

  // Two first sign-ins of one identity at once: the loser of the unique index retries and
  // then finds the principal the winner created.
  const attempt = () => db.$transaction(async (tx) => {
    let principal = await tx.principal.findUnique({ where: { oidcIssuer_oidcSubject: { oidcIssuer: issuer, oidcSubject: subject } } });
    // The same identity provider may also issue agents' gateway tokens: an identity first seen as
    // an agent is a service account and never becomes a console sign-in.
    if (principal && principal.kind !== "user") {
      throw new AppError("FORBIDDEN", "This identity belongs to an agent, not a console user. Ask an administrator.");
    }
    if (!principal && email) {
      const byEmail = await tx.principal.findUnique({ where: { email } });
      if (byEmail && (!emailVerified || byEmail.oidcSubject || byEmail.kind !== "user")) {
        throw new AppError("CONFLICT", "An account with this email already exists and cannot be linked to this sign-in. Ask an administrator.");
      }
      if (byEmail) {
        principal = await tx.principal.update({ where: { id: byEmail.id }, data: { oidcIssuer: issuer, oidcSubject: subject } });
      }
    }
    const system: TActor = { type: "system", id: "system", name: "oidc", request };
    if (!principal) {
      principal = await tx.principal.create({
        data: { kind: "user", role, email, name, oidcIssuer: issuer, oidcSubject: subject },
      });
      await recordAuditEvent(tx, {
        actor: system,
        action: "user.created",
        target: { type: "principal", id: principal.id },
        reason: "first OpenID Connect sign-in",
        payload: { email, role, kind: "user" },
      });
    } else if (principal.role !== role) {
      await lockAdmins(tx);
      const lastAdmin =
        principal.role === "admin" && !principal.disabledAt && (await tx.principal.count({ where: { role: "admin", kind: "user", disabledAt: null } })) <= 1;
      if (lastAdmin) {
        // The identity provider is the source of truth for roles, except that it may not
        // leave Tether without an administrator; the refusal is recorded for follow-up.
        await recordAuditEvent(tx, {
          actor: system,
          action: "user.role_change_refused",
          target: { type: "principal", id: principal.id },
          outcome: "denied",
          reason: "the identity provider mapped the last active administrator to another role",
          payload: { from: principal.role, to: role },
        });
      } else {
        await recordAuditEvent(tx, {
          actor: system,
          action: "user.role_changed",
          target: { type: "principal", id: principal.id },
          reason: `role mapped from the identity provider's ${env.OIDC_ROLE_CLAIM} claim`,
          payload: { from: principal.role, to: role },
        });
        principal = await tx.principal.update({ where: { id: principal.id }, data: { role } });
      }
    }
    if (principal.disabledAt) {
      await recordAuditEvent(tx, {
        actor: anonymous,
        action: "auth.sign_in_failed",
        target: { type: "principal", id: principal.id },
        outcome: "denied",
        reason: "account disabled",
        payload: { provider: "oidc", cause: "disabled" },
      });
      // Thrown after the audit insert would roll it back, so return a marker instead.
      return null;
    }
    const session = await tx.consoleSession.create({
      data: {
        principalId: principal.id,
        provider: "oidc",
        expiresAt: sessionExpiry(env.TETHER_SESSION_MAX_AGE_HOURS),
        ip: request.ip ?? null,
        userAgent: request.userAgent ?? null,
      },
    });
    await tx.principal.update({ where: { id: principal.id }, data: { lastSignInAt: new Date() } });
    await recordAuditEvent(tx, {
      actor: { type: "user", id: principal.id, role: principal.role, name: principal.name, email: principal.email, request },
      action: "auth.signed_in",
      target: { type: "principal", id: principal.id },
      payload: { provider: "oidc", sessionId: session.id },
    });
    return { principalId: principal.id, sessionId: session.id, name: principal.name, email: principal.email, role: principal.role };
  });
  let signedIn;
  try {
    signedIn = await attempt();
  } catch (err) {
    if ((err as { code?: string }).code !== "P2002") throw err;
    signedIn = await attempt();
  }
  if (!signedIn) throw new AppError("FORBIDDEN", "Your account is disabled.");
  return signedIn;
}
