// GET|POST /api/auth/* — next-auth: sign-in (CSRF-protected), callbacks, sign-out.
import NextAuth from "next-auth";
import type { NextRequest } from "next/server";
import { buildAuthOptions } from "@/lib/auth/auth-options";
import { requestMetaFrom } from "@/lib/http/request-meta";

type TContext = { params: Promise<{ nextauth: string[] }> };

async function handler(request: NextRequest, context: TContext) {
  return NextAuth(request, context, buildAuthOptions(requestMetaFrom(request.headers)));
}

export { handler as GET, handler as POST };
