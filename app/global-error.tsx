"use client";

// Last resort when the root layout itself fails: no styles, no stack trace.
export default function GlobalError({ error }: { error: Error & { digest?: string } }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: "system-ui, sans-serif", padding: "4rem", maxWidth: "40rem" }}>
        <p>500</p>
        <h1>Something went wrong</h1>
        <p>The console could not complete this request. Reference: <code>{error.digest ?? "unavailable"}</code></p>
        {/* A full page load on purpose: the app shell itself failed. */}
        {/* eslint-disable-next-line @next/next/no-html-link-for-pages */}
        <a href="/">Go to the console</a>
      </body>
    </html>
  );
}
