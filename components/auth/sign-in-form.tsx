"use client";

import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/field";
import { ZSignInInput } from "@/lib/auth/schemas";

type TFieldErrors = Partial<Record<"email" | "password", string>>;

export function SignInForm(props: { returnTo: string; oidc: { name: string } | null; initialError: string | null }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(props.initialError);
  const [fieldErrors, setFieldErrors] = useState<TFieldErrors>({});
  const [pending, setPending] = useState(false);

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const parsed = ZSignInInput.safeParse({ email: form.get("email"), password: form.get("password") });
    if (!parsed.success) {
      const errors: TFieldErrors = {};
      for (const issue of parsed.error.issues) errors[issue.path[0] as keyof TFieldErrors] ??= issue.message;
      setFieldErrors(errors);
      setError(null);
      return;
    }
    setFieldErrors({});
    setPending(true);
    try {
      const result = await signIn("credentials", { email: parsed.data.email, password: form.get("password"), redirect: false });
      if (!result || result.error) {
        setError(result?.error && result.error !== "CredentialsSignin" ? result.error : "Invalid email or password.");
        return;
      }
      router.replace(props.returnTo);
      router.refresh();
    } catch {
      setError("Could not reach the server. Check your connection and try again.");
    } finally {
      setPending(false);
    }
  }

  return (
    <div className="space-y-6 rounded-card border border-border bg-surface p-6 shadow-sm">
      <h1 id="signin-title" className="text-lg font-semibold">Sign in</h1>
      {error ? <Alert tone="danger">{error}</Alert> : null}
      <form onSubmit={onSubmit} noValidate className="space-y-4" aria-labelledby="signin-title">
        <TextField id="email" name="email" type="email" label="Email" autoComplete="username" required error={fieldErrors.email} />
        <TextField id="password" name="password" type="password" label="Password" autoComplete="current-password" required error={fieldErrors.password} />
        <Button type="submit" className="w-full" disabled={pending}>
          {pending ? "Signing in…" : "Sign in"}
        </Button>
      </form>
      {props.oidc ? (
        <>
          <div className="flex items-center gap-3 text-xs text-fg-muted" aria-hidden>
            <span className="h-px flex-1 bg-border" /> or <span className="h-px flex-1 bg-border" />
          </div>
          <Button type="button" variant="secondary" className="w-full" onClick={() => signIn("oidc", { callbackUrl: props.returnTo })}>
            Continue with {props.oidc.name}
          </Button>
        </>
      ) : null}
    </div>
  );
}
