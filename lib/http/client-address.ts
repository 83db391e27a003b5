import type { IncomingMessage } from "node:http";

// Where a request came from, as audit events and the sign-in rate limit record it. A client can
// send any X-Forwarded-For it likes, so the header is believed only as far as the operator says
// proxies of their own stand in front (TETHER_TRUSTED_PROXY_HOPS): with none, the address is the
// socket's peer; behind N, it is what the nearest untrusted hop connected from, read from the
// right of X-Forwarded-For. The console's HTTP servers (scripts/serve.ts, the gateway process)
// pin the result on each request before anything reads it.

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

function tidy(address: string): string {
  const value = address.trim();
  return (MAPPED_V4.exec(value)?.[1] ?? value).slice(0, 64);
}

/** The client's address given the socket's peer, the X-Forwarded-For it sent, and how many trusted proxies stand in front. */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trustedHops: number): string | undefined {
  if (!peer) return undefined;
  if (trustedHops === 0) return tidy(peer);
  const chain = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? ""))
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  chain.push(peer);
  // The peer is the nearest hop; each trusted proxy vouches for the one before it.
  return tidy(chain[Math.max(0, chain.length - 1 - trustedHops)]!);
}

/**
 * Replaces whatever X-Forwarded-For and X-Real-IP the request carried with `address` alone, in
 * both of Node's views of the headers (Next.js reads `headers`, the gateway `rawHeaders`).
 */
export function pinClientAddress(req: IncomingMessage, address: string | undefined): void {
  const raw = req.rawHeaders;
  const kept: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name !== "x-forwarded-for" && name !== "x-real-ip") kept.push(raw[i]!, raw[i + 1]!);
  }
  if (address) kept.push("X-Forwarded-For", address);
  raw.splice(0, raw.length, ...kept);
  delete req.headers["x-real-ip"];
  if (address) req.headers["x-forwarded-for"] = address;
  else delete req.headers["x-forwarded-for"];
}
