// Turns "could not reach / log in to Postgres" failures into one line a person can act on.
// Such failures are configuration mistakes, not bugs, so CLIs print this line and exit instead
// of a stack trace. Errors arrive from several layers with different shapes: pg (SQLSTATE
// codes), Node's network stack (errno codes, AggregateError for multi-address hosts), adapter-pg
// (DriverAdapterError causes), the Prisma client (P1xxx codes) and the WebAssembly schema
// engine (only a message), so each problem is recognised in all of them.
import { getDatabaseName, getServerAddress } from "./connection-string";

type TConnectionProblem =
  | "refused"
  | "host-not-found"
  | "timeout"
  | "unreachable"
  | "closed"
  | "database-missing"
  | "authentication-failed"
  | "access-denied"
  | "too-many-connections"
  | "not-accepting-connections"
  | "tls";

const ERRNO_PROBLEMS: Record<string, TConnectionProblem> = {
  ECONNREFUSED: "refused",
  ENOTFOUND: "host-not-found",
  EAI_AGAIN: "host-not-found",
  EAI_NONAME: "host-not-found",
  ETIMEDOUT: "timeout",
  EHOSTUNREACH: "unreachable",
  ENETUNREACH: "unreachable",
  EHOSTDOWN: "unreachable",
  ECONNRESET: "closed",
  EPIPE: "closed",
  // A Unix socket path that does not exist (only with a network syscall, see below).
  ENOENT: "refused",
  DEPTH_ZERO_SELF_SIGNED_CERT: "tls",
  SELF_SIGNED_CERT_IN_CHAIN: "tls",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "tls",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "tls",
  CERT_HAS_EXPIRED: "tls",
  ERR_TLS_CERT_ALTNAME_INVALID: "tls",
};

// errno codes also come from the file system (ENOENT reading a migration); only these count.
const NETWORK_SYSCALLS = new Set(["connect", "getaddrinfo", "read", "write", "queryA", "queryAaaa"]);

const SQLSTATE_PROBLEMS: Record<string, TConnectionProblem> = {
  "3D000": "database-missing",
  "28P01": "authentication-failed",
  "28000": "access-denied",
  "53300": "too-many-connections",
  "57P03": "not-accepting-connections",
  "08001": "refused",
  "08006": "closed",
};

const PRISMA_CODE_PROBLEMS: Record<string, TConnectionProblem> = {
  P1000: "authentication-failed",
  P1001: "refused",
  P1002: "timeout",
  P1003: "database-missing",
  P1010: "access-denied",
  P1011: "tls",
  P1017: "closed",
  P2037: "too-many-connections",
};

// adapter-pg's DriverAdapterError `cause.kind` values.
const ADAPTER_KIND_PROBLEMS: Record<string, TConnectionProblem> = {
  DatabaseDoesNotExist: "database-missing",
  DatabaseAccessDenied: "access-denied",
  AuthenticationFailed: "authentication-failed",
  DatabaseNotReachable: "refused",
  ConnectionClosed: "closed",
  SocketTimeout: "timeout",
  TooManyConnections: "too-many-connections",
  TlsConnectionError: "tls",
};

const MESSAGE_PROBLEMS: [RegExp, TConnectionProblem][] = [
  [/Can't reach database server|ECONNREFUSED/i, "refused"],
  [/getaddrinfo|ENOTFOUND|EAI_AGAIN/i, "host-not-found"],
  // Not a bare "timeout": "canceling statement due to statement timeout" is no connection problem.
  [/timed out|connection timeout|timeout exceeded when trying to connect/i, "timeout"],
  [/Database `[^`]*` does not exist|database "[^"]*" does not exist/i, "database-missing"],
  [/Authentication failed|password authentication failed/i, "authentication-failed"],
  [/denied access|role "[^"]*" does not exist|no pg_hba\.conf entry|permission denied for database/i, "access-denied"],
  [/too many (database )?connections|remaining connection slots/i, "too-many-connections"],
  [/the database system is (starting up|shutting down|in recovery mode)/i, "not-accepting-connections"],
  [/SSL|TLS|certificate/i, "tls"],
  [/Connection terminated|Server has closed the connection/i, "closed"],
];

function getProperty(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function getStringProperty(value: unknown, key: string): string | undefined {
  const property = getProperty(value, key);
  return typeof property === "string" ? property : undefined;
}

function classifyOne(err: unknown): TConnectionProblem | undefined {
  const code = getStringProperty(err, "code") ?? getStringProperty(err, "errorCode");
  if (code) {
    const syscall = getStringProperty(err, "syscall");
    const errnoProblem = syscall === undefined || NETWORK_SYSCALLS.has(syscall) ? ERRNO_PROBLEMS[code] : undefined;
    const problem = errnoProblem ?? SQLSTATE_PROBLEMS[code] ?? PRISMA_CODE_PROBLEMS[code];
    if (problem) return problem;
  }
  const kind = getStringProperty(getProperty(err, "cause"), "kind");
  if (kind && ADAPTER_KIND_PROBLEMS[kind]) return ADAPTER_KIND_PROBLEMS[kind];
  const message = getStringProperty(err, "message");
  if (message) {
    for (const [pattern, problem] of MESSAGE_PROBLEMS) if (pattern.test(message)) return problem;
  }
  return undefined;
}

function classifyConnectionError(err: unknown, depth = 0): TConnectionProblem | undefined {
  if (depth > 5 || err === null || err === undefined) return undefined;
  const direct = classifyOne(err);
  if (direct) return direct;
  // A host name with several addresses (localhost: ::1 and 127.0.0.1) fails with an
  // AggregateError whose own message may be empty.
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      const problem = classifyConnectionError(inner, depth + 1);
      if (problem) return problem;
    }
  }
  return classifyConnectionError(getProperty(err, "cause"), depth + 1);
}

export function isConnectionError(err: unknown): boolean {
  return classifyConnectionError(err) !== undefined;
}

function safeGetDatabaseName(connectionString: string): string {
  try {
    return getDatabaseName(connectionString);
  } catch {
    return "(unknown)";
  }
}

function safeGetUserName(connectionString: string): string {
  try {
    return decodeURIComponent(new URL(connectionString).username) || "(default user)";
  } catch {
    return "(unknown)";
  }
}

function getFirstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n").find((line) => line.trim().length > 0)?.trim() ?? "unknown error";
}

/**
 * One line naming the server (never the password) and what went wrong. Errors that are not
 * connection problems get the first line of their message, still without a stack trace.
 */
export function describeConnectionError(err: unknown, connectionString: string): string {
  const address = getServerAddress(connectionString);
  const problem = classifyConnectionError(err);
  const prefix = `Cannot connect to Postgres at ${address}`;
  switch (problem) {
    case "refused":
      return `${prefix}: connection refused. Is Postgres running and listening on that host and port?`;
    case "host-not-found":
      return `${prefix}: host not found. Check the host name in DATABASE_URL.`;
    case "timeout":
      return `${prefix}: timed out. Check the host, the port and any firewall in between.`;
    case "unreachable":
      return `${prefix}: network unreachable. Check the host in DATABASE_URL and the network.`;
    case "closed":
      return `${prefix}: the server closed the connection. Check that this is a Postgres server and its logs.`;
    case "database-missing":
      return `${prefix}: database "${safeGetDatabaseName(connectionString)}" does not exist. Create it or fix the name in DATABASE_URL.`;
    case "authentication-failed":
      return `${prefix}: authentication failed for user "${safeGetUserName(connectionString)}". Check the user name and password.`;
    case "access-denied":
      return `${prefix}: access denied for user "${safeGetUserName(connectionString)}" to database "${safeGetDatabaseName(connectionString)}". Check that the role exists and may connect.`;
    case "too-many-connections":
      return `${prefix}: the server has no free connection slots. Close idle clients or raise max_connections.`;
    case "not-accepting-connections":
      return `${prefix}: the server is starting up or shutting down. Try again shortly.`;
    case "tls":
      return `${prefix}: TLS negotiation failed (${getFirstLine(err)}). Check sslmode and the server certificate.`;
    case undefined:
      return `Database error at ${address}: ${getFirstLine(err)}`;
  }
}
