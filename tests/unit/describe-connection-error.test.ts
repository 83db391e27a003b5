// The one-line messages CLIs print instead of stack traces, for each layer's error shape.
import { describe, expect, it } from "vitest";
import { describeConnectionError, isConnectionError } from "@/lib/db/describe-connection-error";

const url = "postgresql://tether:s3cret-pw@db.internal:6543/tether";

function pgError(code: string, message: string) {
  return Object.assign(new Error(message), { code, severity: "FATAL" });
}

function errnoError(code: string, syscall: string) {
  return Object.assign(new Error(`${syscall} ${code}`), { code, syscall, errno: -1 });
}

describe("describeConnectionError", () => {
  it.each([
    ["refused (Node)", errnoError("ECONNREFUSED", "connect"), /connection refused/],
    ["unknown host (Node)", errnoError("ENOTFOUND", "getaddrinfo"), /host not found/],
    ["wrong password (pg)", pgError("28P01", 'password authentication failed for user "tether"'), /authentication failed for user "tether"/],
    ["missing role (pg)", pgError("28000", 'role "tether" does not exist'), /access denied for user "tether"/],
    ["missing database (pg)", pgError("3D000", 'database "tether" does not exist'), /database "tether" does not exist/],
    ["server full (pg)", pgError("53300", "sorry, too many clients already"), /no free connection slots/],
    ["starting up (pg)", pgError("57P03", "the database system is starting up"), /starting up/],
    ["closed (pg)", new Error("Connection terminated unexpectedly"), /closed the connection/],
    ["timeout (ours)", new Error("Connection timed out after 10 s"), /timed out/],
    ["unreachable (engine)", new Error("Can't reach database server at `db.internal:6543`"), /connection refused/],
    ["missing database (engine)", new Error("Database `tether` does not exist"), /database "tether" does not exist/],
    ["wrong password (Prisma code)", Object.assign(new Error("Authentication failed"), { code: "P1000" }), /authentication failed/],
    ["missing database (adapter)", Object.assign(new Error("x"), { cause: { kind: "DatabaseDoesNotExist" } }), /does not exist/],
  ])("names the problem: %s", (_label, err, expected) => {
    const line = describeConnectionError(err, url);

    expect(isConnectionError(err)).toBe(true);
    expect(line).toMatch(/^Cannot connect to Postgres at db\.internal:6543: /);
    expect(line).toMatch(expected);
    expect(line).not.toContain("\n");
  });

  it("looks inside AggregateError, as thrown for hosts with several addresses", () => {
    const err = new AggregateError([errnoError("ECONNREFUSED", "connect"), errnoError("ECONNREFUSED", "connect")], "");

    expect(describeConnectionError(err, url)).toMatch(/connection refused/);
  });

  it("never prints the password", () => {
    for (const err of [pgError("28P01", "password authentication failed"), new Error(`boom ${"\n"}at x`)]) {
      expect(describeConnectionError(err, url)).not.toContain("s3cret-pw");
    }
  });

  it("does not mistake file-system or SQL errors for connection problems", () => {
    const missingFile = errnoError("ENOENT", "open");
    const statementTimeout = pgError("57014", "canceling statement due to statement timeout");

    expect(isConnectionError(missingFile)).toBe(false);
    expect(isConnectionError(statementTimeout)).toBe(false);
    expect(describeConnectionError(statementTimeout, url)).toBe(
      "Database error at db.internal:6543: canceling statement due to statement timeout",
    );
  });
});
