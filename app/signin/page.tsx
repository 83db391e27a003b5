import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { SignInForm } from "@/components/auth/sign-in-form";
import { isOidcConfigured } from "@/lib/auth/auth-options";
import { getCurrentActor } from "@/lib/auth/current-actor";
import { getEnv } from "@/lib/env";
import { safeReturnPath } from "@/lib/http/safe-return-path";

export const metadata: Metadata = { title: "Sign in" };

const ERRORS: Record<string, string> = {
  NoRole: "Your account has no Tether role. Ask an administrator for access.",
  NotLinked: "An account with this email already exists and cannot be linked to this sign-in. Ask an administrator.",
  OAuthCallback: "The sign-in with your identity provider did not complete. Try again.",
  OAuthSignin: "Could not reach your identity provider. Try again later.",
  SessionRequired: "Sign in to continue.",
};

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const returnTo = safeReturnPath(params.callbackUrl);
  if (await getCurrentActor()) redirect(returnTo);
  const errorKey = typeof params.error === "string" ? params.error : undefined;
  const env = getEnv();
  return (
    <main className="flex min-h-screen items-center justify-center px-4 py-12">
      <div className="w-full max-w-sm">
        <div className="mb-8 text-center">
          <p className="text-2xl font-semibold tracking-tight">Tether</p>
          <p className="mt-1 text-sm text-fg-muted">Task handle governance</p>
        </div>
        <SignInForm
          returnTo={returnTo}
          oidc={isOidcConfigured() ? { name: env.OIDC_DISPLAY_NAME } : null}
          initialError={errorKey ? (ERRORS[errorKey] ?? "Sign-in failed. Try again.") : null}
        />
      </div>
    </main>
  );
}
