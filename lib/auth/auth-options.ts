import "server-only";
import type { NextAuthOptions, User } from "next-auth";
import type { OAuthConfig } from "next-auth/providers/oauth";
import CredentialsProvider from "next-auth/providers/credentials";
import { getEnv, requireSecret } from "@/lib/env";
import { isAppError } from "@/lib/errors";
import type { TRequestMeta } from "./actor";
import { endConsoleSession } from "./end-console-session";
import { signInWithOidc } from "./sign-in-with-oidc";
import { signInWithPassword } from "./sign-in-with-password";

type TTetherUser = User & { sessionId?: string };

export function isOidcConfigured(): boolean {
  const env = getEnv();
  return Boolean(env.OIDC_ISSUER && env.OIDC_CLIENT_ID && env.OIDC_CLIENT_SECRET);
}

/**
 * next-auth configuration, built per request so sign-in and sign-out audit events carry
 * the request's id, address and user agent. The JWT cookie carries only the console
 * session id; lib/auth/get-console-actor.ts checks that row on every request.
 */
export function buildAuthOptions(request: TRequestMeta): NextAuthOptions {
  const env = getEnv();
  const providers: NextAuthOptions["providers"] = [
    CredentialsProvider({
      id: "credentials",
      name: "Email and password",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials) {
        try {
          const signedIn = await signInWithPassword({ email: credentials?.email, password: credentials?.password, request });
          return { id: signedIn.principalId, name: signedIn.name, email: signedIn.email, sessionId: signedIn.sessionId } satisfies TTetherUser;
        } catch (err) {
          // next-auth passes the message of a thrown Error to the sign-in form; only our
          // own, user-facing messages may reach it.
          if (isAppError(err) && err.status < 500) throw new Error(err.message);
          throw err;
        }
      },
    }),
  ];
  if (isOidcConfigured()) {
    const issuer = env.OIDC_ISSUER!.replace(/\/$/, "");
    const oidc: OAuthConfig<Record<string, unknown>> = {
      id: "oidc",
      name: env.OIDC_DISPLAY_NAME,
      type: "oauth",
      wellKnown: `${issuer}/.well-known/openid-configuration`,
      clientId: env.OIDC_CLIENT_ID!,
      clientSecret: env.OIDC_CLIENT_SECRET!,
      idToken: true,
      checks: ["pkce", "state", "nonce"],
      authorization: { params: { scope: "openid email profile" } },
      profile(profile) {
        return {
          id: String(profile.sub),
          name: typeof profile.name === "string" ? profile.name : null,
          email: typeof profile.email === "string" ? profile.email : null,
        };
      },
    };
    providers.push(oidc);
  }

  return {
    secret: requireSecret("TETHER_SESSION_SECRET"),
    session: { strategy: "jwt", maxAge: Math.round(env.TETHER_SESSION_MAX_AGE_HOURS * 3600) },
    pages: { signIn: "/signin", error: "/signin" },
    providers,
    callbacks: {
      async signIn({ user, account, profile }) {
        if (account?.provider !== "oidc") return true;
        try {
          const signedIn = await signInWithOidc({
            identity: { issuer: env.OIDC_ISSUER!.replace(/\/$/, ""), subject: String(profile?.sub ?? account.providerAccountId), claims: { ...(profile ?? {}) } },
            request,
          });
          (user as TTetherUser).sessionId = signedIn.sessionId;
          user.id = signedIn.principalId;
          return true;
        } catch (err) {
          if (isAppError(err) && err.status < 500) return `/signin?error=${encodeURIComponent(err.code === "FORBIDDEN" ? "NoRole" : "NotLinked")}`;
          throw err;
        }
      },
      async jwt({ token, user }) {
        const sessionId = (user as TTetherUser | undefined)?.sessionId;
        if (sessionId) {
          token.sid = sessionId;
          token.sub = user.id;
        }
        return token;
      },
      async session({ session, token }) {
        return { ...session, sid: typeof token.sid === "string" ? token.sid : undefined };
      },
      // Only same-origin relative targets; anything else lands on the console home.
      async redirect({ url, baseUrl }) {
        if (url.startsWith("/") && !url.startsWith("//") && !url.startsWith("/\\")) return `${baseUrl}${url}`;
        try {
          if (new URL(url).origin === baseUrl) return url;
        } catch {
          /* not a URL: fall through */
        }
        return baseUrl;
      },
    },
    events: {
      async signOut({ token }) {
        if (typeof token?.sid === "string") await endConsoleSession({ sessionId: token.sid, request });
      },
    },
    logger: {
      // next-auth logs raw errors and request data; keep it to codes.
      error: (code) => console.error(`[auth] ${code}`),
      warn: (code) => console.warn(`[auth] ${code}`),
      debug: () => undefined,
    },
  };
}
