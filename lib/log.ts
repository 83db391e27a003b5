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
