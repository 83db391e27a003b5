// Which address a request is recorded as coming from (audit rows, the sign-in rate limit).
import { describe, expect, it } from "vitest";
import { clientAddress } from "@/lib/http/client-address";

describe("clientAddress", () => {
  it("is the socket's peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(clientAddress("198.51.100.7", "203.0.113.9", 0)).toBe("198.51.100.7");
    expect(clientAddress("198.51.100.7", undefined, 0)).toBe("198.51.100.7");
    expect(clientAddress("::ffff:127.0.0.1", "203.0.113.9", 0)).toBe("127.0.0.1");
    expect(clientAddress("::1", undefined, 0)).toBe("::1");
  });

  it("reads X-Forwarded-For from the right, one entry per trusted proxy", () => {
    // The client forged the first entry; the trusted proxy appended what it saw.
    expect(clientAddress("10.0.0.2", "6.6.6.6, 198.51.100.7", 1)).toBe("198.51.100.7");
    expect(clientAddress("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.1", 2)).toBe("198.51.100.7");
    expect(clientAddress("10.0.0.2", ["6.6.6.6", "198.51.100.7"], 1)).toBe("198.51.100.7");
  });

  it("falls back to the leftmost entry when fewer hops than trusted arrived, and never to nothing", () => {
    expect(clientAddress("10.0.0.2", undefined, 1)).toBe("10.0.0.2");
    expect(clientAddress("10.0.0.2", "198.51.100.7", 3)).toBe("198.51.100.7");
    expect(clientAddress("10.0.0.2", " , ,", 1)).toBe("10.0.0.2");
    expect(clientAddress(undefined, "203.0.113.9", 1)).toBeUndefined();
  });

  it("keeps an address to 64 characters", () => {
    expect(clientAddress("10.0.0.2", "x".repeat(500), 1)).toHaveLength(64);
  });
});
