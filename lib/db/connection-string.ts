// Postgres connection strings are secrets (they may carry a password), so everything that
// needs to show or rewrite one goes through here instead of string slicing at call sites.

const DEFAULT_PORT = "5432";

function parseConnectionString(connectionString: string): URL {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    throw new Error("The database connection string is not a valid postgresql:// URL.");
  }
  if (url.protocol !== "postgresql:" && url.protocol !== "postgres:") {
    throw new Error(`The database connection string must start with postgresql:// (got ${url.protocol}//).`);
  }
  return url;
}

/** `host:port` of the server, without credentials: safe to print and log. */
export function getServerAddress(connectionString: string): string {
  let url: URL;
  try {
    url = parseConnectionString(connectionString);
  } catch {
    return "(unparseable connection string)";
  }
  // libpq lets `?host=` override the authority, typically for a Unix socket directory.
  const host = url.searchParams.get("host") ?? (url.hostname || "localhost");
  const port = url.searchParams.get("port") ?? (url.port || DEFAULT_PORT);
  return `${host}:${port}`;
}

export function getDatabaseName(connectionString: string): string {
  const url = parseConnectionString(connectionString);
  // pg falls back to the user name when the path names no database, as libpq does.
  return decodeURIComponent(url.pathname.replace(/^\//, "")) || decodeURIComponent(url.username) || "postgres";
}

/** Same server, credentials and options; another database on it. */
export function replaceDatabaseName(connectionString: string, databaseName: string): string {
  const url = parseConnectionString(connectionString);
  url.pathname = `/${encodeURIComponent(databaseName)}`;
  return url.toString();
}
