// Sets environment variables for one test file and puts the previous values back afterwards.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { resetEnvCache } from "@/lib/env";

export function setUpEnv(values: () => Record<string, string | undefined>): void {
  const previous = new Map<string, string | undefined>();
  beforeAll(() => {
    for (const [name, value] of Object.entries(values())) {
      previous.set(name, process.env[name]);
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetEnvCache();
  });
  afterAll(() => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetEnvCache();
  });
}

/** The secrets sign-in needs (keyed hashes of emails in audit rows), unless the environment has them. */
export function setUpTestSecrets(): void {
  setUpEnv(() => ({
    TETHER_HMAC_KEY: process.env.TETHER_HMAC_KEY || randomBytes(48).toString("base64"),
    TETHER_ENCRYPTION_KEY: process.env.TETHER_ENCRYPTION_KEY || randomBytes(32).toString("base64"),
    TETHER_SESSION_SECRET: process.env.TETHER_SESSION_SECRET || randomBytes(48).toString("base64"),
  }));
}
