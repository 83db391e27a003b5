import "server-only";
import { getEnv } from "@/lib/env";

/** The gateway base URL: TETHER_PUBLIC_URL, else http://HOST:PORT. */
export function gatewayBaseUrl(): string {
  const env = getEnv();
  return (env.TETHER_PUBLIC_URL ?? `http://${env.HOST}:${env.PORT}`).replace(/\/+$/, "");
}

/** The audience a handle for this server is bound to unless the admin sets another: its gateway address. */
export function defaultAudience(slug: string): string {
  return `${gatewayBaseUrl()}/mcp/${slug}`;
}
