import { beforeAll, describe, expect, it } from "vitest";
import { createHmac, randomBytes } from "node:crypto";
import { decryptSecret, encryptSecret, keyedHash, randomToken } from "@/lib/crypto/secrets";
import { resetEnvCache } from "@/lib/env";

beforeAll(() => {
  process.env.TETHER_HMAC_KEY = randomBytes(48).toString("base64url");
  process.env.TETHER_ENCRYPTION_KEY = randomBytes(32).toString("base64");
  resetEnvCache();
});

describe("secrets", () => {
  it("refuses an envelope whose tag was shortened (a cheaper forgery) or whose IV is not 96 bits", () => {
    const [v, iv, tag, ct] = encryptSecret("upstream-task-id", "ctx").split(".");
    const shortTag = Buffer.from(tag!, "base64url").subarray(0, 4).toString("base64url");
    expect(() => decryptSecret([v, iv, shortTag, ct].join("."), "ctx")).toThrow("Unrecognised secret envelope.");
    const longIv = Buffer.concat([Buffer.from(iv!, "base64url"), Buffer.alloc(4)]).toString("base64url");
    expect(() => decryptSecret([v, longIv, tag, ct].join("."), "ctx")).toThrow("Unrecognised secret envelope.");
  });

  it("keys hashes by purpose so one domain never matches another", () => {
    expect(keyedHash("api-key", "x")).toBe(keyedHash("api-key", "x"));
    expect(keyedHash("api-key", "x")).not.toBe(keyedHash("handle-token", "x"));
  });
  it("is HMAC-SHA256 under the configured key (stored hashes stay valid), and follows a changed key", () => {
    const expected = (key: string) => createHmac("sha256", key).update("handle-token\0tht_example").digest("base64url");
    expect(keyedHash("handle-token", "tht_example")).toBe(expected(process.env.TETHER_HMAC_KEY!));
    const before = process.env.TETHER_HMAC_KEY!;
    process.env.TETHER_HMAC_KEY = randomBytes(48).toString("base64url");
    resetEnvCache();
    try {
      expect(keyedHash("handle-token", "tht_example")).toBe(expected(process.env.TETHER_HMAC_KEY));
      expect(keyedHash("handle-token", "tht_example")).not.toBe(expected(before));
    } finally {
      process.env.TETHER_HMAC_KEY = before;
      resetEnvCache();
    }
  });
  it("makes tokens with at least 256 bits", () => {
    const t = randomToken();
    expect(Buffer.from(t, "base64url").length).toBeGreaterThanOrEqual(32);
    expect(randomToken()).not.toBe(t);
  });
  it("round-trips encryption and binds the context", () => {
    const env = encryptSecret("upstream-task-42", "handle:abc");
    expect(env).not.toContain("upstream-task-42");
    expect(decryptSecret(env, "handle:abc")).toBe("upstream-task-42");
    expect(() => decryptSecret(env, "handle:other")).toThrow();
    const [v, iv, tag, ct] = env.split(".");
    const flipped = Buffer.from(ct!, "base64url");
    flipped[0]! ^= 1;
    expect(() => decryptSecret([v, iv, tag, flipped.toString("base64url")].join("."), "handle:abc")).toThrow();
  });
});
