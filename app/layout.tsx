import type { Metadata } from "next";
import { cookies, headers } from "next/headers";
import { REQUEST_ID_HEADER } from "@/lib/http/request-meta";
import { THEME_COOKIE, parseTheme } from "@/components/shell/theme";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Tether", template: "%s · Tether" },
  description: "Governance console and gateway for MCP task handles",
  robots: { index: false, follow: false },
};

// Applies the "system" theme before first paint (the cookie covers explicit choices).
const SYSTEM_THEME_SCRIPT = `try{var d=document.documentElement;if(d.dataset.theme==="system"&&matchMedia("(prefers-color-scheme: dark)").matches)d.classList.add("dark")}catch(e){}`;

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const theme = parseTheme((await cookies()).get(THEME_COOKIE)?.value);
  const requestId = (await headers()).get(REQUEST_ID_HEADER) ?? "";
  return (
    <html lang="en" data-theme={theme} className={theme === "dark" ? "dark" : undefined} suppressHydrationWarning>
      <head>
        <meta name="tether-request-id" content={requestId} />
        <script dangerouslySetInnerHTML={{ __html: SYSTEM_THEME_SCRIPT }} />
      </head>
      <body className="min-h-screen font-sans antialiased">{children}</body>
    </html>
  );
}
