import pino from "pino";

// Structured logs. Anything that may hold a secret is redacted by key, as a second line of
// defence: code must not put secrets in log fields in the first place.
export const log = pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: { service: "tether" },
  redact: {
    paths: [
      "password",
      "*.password",
      "token",
      "*.token",
      "authorization",
      "*.authorization",
      "headers.authorization",
      "headers.cookie",
      "apiKey",
      "*.apiKey",
      "secret",
      "*.secret",
      "taskId",
      "*.taskId",
      "upstreamTaskId",
      "*.upstreamTaskId",
    ],
    censor: "[redacted]",
  },
});

/**
 * What of an unexpected error may be logged: its name, code and the first line of its message.
 * Prisma's validation errors print the whole query (values included) from the second line on,
 * and those values can be hashes or other material that has no place in a log.
 */
export function describeErrorForLog(err: unknown): { name: string; code?: string; message: string } {
  if (!(err instanceof Error)) return { name: "NonError", message: String(err).split("\n")[0]!.slice(0, 300) };
  const code = (err as { code?: unknown }).code;
  const firstLine = err.message.split("\n").find((l) => l.trim().length > 0) ?? "";
  return { name: err.name, ...(typeof code === "string" ? { code } : {}), message: firstLine.slice(0, 300) };
}
