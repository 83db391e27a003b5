// Runs before every route: gives each request an id (shown on error pages and recorded in
// audit events) and sets the security headers. Authorization is not done here; it lives
// in the use cases.
import { NextResponse, type NextRequest } from "next/server";
import { REQUEST_ID_HEADER, REQUEST_PATH_HEADER, REQUEST_RECEIVED_AT_HEADER, normaliseRequestId } from "@/lib/http/request-meta";

function contentSecurityPolicy(): string {
  const formTargets = ["'self'"];
  // The OpenID sign-in leaves the site by redirect; allow exactly the configured issuer.
  if (process.env.OIDC_ISSUER) {
    try {
      formTargets.push(new URL(process.env.OIDC_ISSUER).origin);
    } catch {
      /* invalid issuer: lib/env.ts reports it */
    }
  }
  return [
    "default-src 'self'",
    // Next.js inlines its bootstrap scripts; no third-party script source is allowed.
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    `form-action ${formTargets.join(" ")}`,
    "object-src 'none'",
  ].join("; ");
}

export function proxy(request: NextRequest) {
  const requestId = normaliseRequestId(request.headers.get(REQUEST_ID_HEADER));
  const headers = new Headers(request.headers);
  headers.set(REQUEST_ID_HEADER, requestId);
  headers.set(REQUEST_PATH_HEADER, request.nextUrl.pathname + request.nextUrl.search);
  headers.set(REQUEST_RECEIVED_AT_HEADER, String(Date.now()));
  const response = NextResponse.next({ request: { headers } });
  response.headers.set(REQUEST_ID_HEADER, requestId);
  response.headers.set("Content-Security-Policy", contentSecurityPolicy());
  response.headers.set("X-Content-Type-Options", "nosniff");
  response.headers.set("Referrer-Policy", "no-referrer");
  response.headers.set("X-Frame-Options", "DENY");
  response.headers.set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  return response;
}

export const config = {
  // The MCP gateway (/mcp/…) is left out: it serves agents, not browsers (no page, no CSP to
  // set), gives every call its request id itself, and is the hot path every poll takes.
  matcher: ["/((?!_next/static|_next/image|favicon.ico|mcp/).*)"],
};
