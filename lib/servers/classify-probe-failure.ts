// Names exactly why a connection check failed, from what the check observed on the wire (the
// HTTP answer, what fetch threw) and the error the MCP client raised. Pure: unit-tested.
// Messages are Tether's own words plus status codes and error codes; the upstream's own text
// appears only for a JSON-RPC refusal of `initialize`, cut short and scrubbed of the token.
import type { TProbeProblem } from "./schemas";

export type TProbeObservation = {
  url: string;
  timeoutMs: number;
  /** The first HTTP answer to a POST that was not a success, else the first answer. */
  response: { status: number; contentType: string | null } | null;
  /** What fetch threw (no HTTP answer at all), unless the check's own deadline aborted it. */
  networkError: unknown;
  /** The check's deadline passed. */
  timedOut: boolean;
  /** Messages on the answer stream that were not JSON-RPC. */
  badMessages: number;
  /** Scrubbed from any upstream text that is quoted (the bearer token, or the OAuth client secret). */
  secret: string | null;
  /** Which kind of credentials the check presented (default: a bearer token when `secret` is set). */
  credentials?: "none" | "bearer" | "oauth_client_credentials";
  /** Further secrets to scrub (the OAuth access token the check sent). */
  otherSecrets?: string[];
};

export type TProbeFailure = { kind: TProbeProblem; message: string };

const TLS_CODES = new Set([
  "EPROTO",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_REVOKED",
  "HOSTNAME_MISMATCH",
]);

/** The error and its causes, outermost first (fetch wraps the socket error in `cause`). */
function chain(err: unknown): Array<{ name: string; code: string | null; message: string }> {
  const out: Array<{ name: string; code: string | null; message: string }> = [];
  let current: unknown = err;
  for (let depth = 0; current && depth < 5; depth++) {
    if (typeof current !== "object") {
      out.push({ name: "Error", code: null, message: String(current) });
      break;
    }
    const e = current as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown };
    out.push({ name: typeof e.name === "string" ? e.name : "Error", code: typeof e.code === "string" ? e.code : null, message: typeof e.message === "string" ? e.message : "" });
    current = e.cause;
  }
  return out;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function scrub(text: string, o: Pick<TProbeObservation, "secret" | "otherSecrets">): string {
  let clean = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  for (const secret of [o.secret, ...(o.otherSecrets ?? [])]) if (secret) clean = clean.split(secret).join("[redacted]");
  return clean.length > 160 ? `${clean.slice(0, 160)}…` : clean;
}

function credentialsHint(o: TProbeObservation): string {
  if (o.credentials === "oauth_client_credentials") return "It refused the OAuth access token: check the client's scope, resource or audience at the provider.";
  return o.secret ? "Check the bearer token." : "It needs a bearer token.";
}

function classifyNetworkError(err: unknown, o: TProbeObservation): TProbeFailure {
  const links = chain(err);
  const host = hostOf(o.url);
  const codes = links.map((l) => l.code).filter((c): c is string => c !== null);
  const tls = codes.find((c) => c.startsWith("ERR_SSL_") || c.startsWith("ERR_TLS_") || TLS_CODES.has(c));
  if (tls || links.some((l) => /\b(ssl|tls)\b|certificate/i.test(l.message))) {
    const hint = codes.includes("ERR_SSL_WRONG_VERSION_NUMBER") ? " The port does not speak TLS: is it a plain http:// server?" : "";
    return { kind: "tls_error", message: `The TLS handshake with ${host} failed (${tls ?? "TLS error"}).${hint}` };
  }
  if (links.some((l) => l.name === "TimeoutError") || codes.some((c) => c === "ETIMEDOUT" || c === "UND_ERR_CONNECT_TIMEOUT" || c === "UND_ERR_HEADERS_TIMEOUT")) {
    return { kind: "timeout", message: `${host} did not answer within ${o.timeoutMs} ms.` };
  }
  if (codes.includes("ECONNREFUSED")) return { kind: "unreachable", message: `Nothing accepted the connection at ${host} (connection refused).` };
  if (codes.includes("ENOTFOUND") || codes.includes("EAI_AGAIN") || codes.includes("EAI_NONAME")) {
    return { kind: "unreachable", message: `The host name of ${host} could not be resolved (DNS).` };
  }
  if (codes.includes("EHOSTUNREACH") || codes.includes("ENETUNREACH")) return { kind: "unreachable", message: `There is no network route to ${host}.` };
  if (codes.includes("ECONNRESET") || codes.includes("UND_ERR_SOCKET") || codes.includes("EPIPE")) {
    return { kind: "unreachable", message: `${host} closed the connection before answering.` };
  }
  if (links.some((l) => l.message === "bad port")) return { kind: "unreachable", message: `HTTP clients refuse to connect to the port of ${host} (a blocked port, e.g. a well-known non-HTTP service).` };
  return { kind: "unreachable", message: `Could not connect to ${host}${codes[0] ? ` (${codes[0]})` : ""}.` };
}

export function classifyProbeFailure(err: unknown, o: TProbeObservation): TProbeFailure {
  const host = hostOf(o.url);
  if (o.timedOut) {
    if (o.badMessages > 0) return { kind: "not_mcp", message: `${host} answered, but not with JSON-RPC messages: it does not look like an MCP server.` };
    return { kind: "timeout", message: `${host} did not complete the MCP handshake within ${o.timeoutMs} ms.` };
  }
  if (o.networkError !== undefined && o.networkError !== null) return classifyNetworkError(o.networkError, o);

  const r = o.response;
  if (r && (r.status === 401 || r.status === 403)) {
    return {
      kind: "credentials_refused",
      message: `${host} refused the credentials (HTTP ${r.status}). ${credentialsHint(o)}`,
    };
  }
  if (r && r.status >= 500) return { kind: "server_error", message: `${host} failed with HTTP ${r.status}.` };
  if (r && (r.status < 200 || r.status >= 300)) {
    return { kind: "not_mcp", message: `${host} answered HTTP ${r.status} to an MCP initialize request: there is no MCP endpoint at this URL.` };
  }
  const type = r?.contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  if (r && type !== "application/json" && type !== "text/event-stream") {
    return { kind: "not_mcp", message: `${host} answered with ${type || "no content type"}, not with JSON-RPC.` };
  }

  const links = chain(err);
  const top = links[0];
  if (links.some((l) => l.name === "ZodError" || l.name === "SyntaxError") || o.badMessages > 0) {
    return { kind: "not_mcp", message: `${host} answered, but not with a JSON-RPC message: it is not an MCP server.` };
  }
  if (top && /protocol version is not supported/i.test(top.message)) {
    const version = /supported: (.*)$/.exec(top.message)?.[1];
    return { kind: "protocol_error", message: `${host} answered with MCP protocol version ${scrub(version ?? "?", o)}, which this Tether does not speak.` };
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (top?.name === "McpError" && code === -32001) return { kind: "timeout", message: `${host} did not complete the MCP handshake within ${o.timeoutMs} ms.` };
  if (top?.name === "McpError") {
    return { kind: "protocol_error", message: `${host} refused the MCP handshake: ${scrub(top.message.replace(/^MCP error -?\d+:\s*/, ""), o)} (JSON-RPC ${String(code)}).` };
  }
  return { kind: "protocol_error", message: `The MCP handshake with ${host} failed: ${scrub(top?.message ?? "unknown error", o)}` };
}
