import { describe, expect, it } from "vitest";
import { describeErrorForLog } from "@/lib/log";

describe("describeErrorForLog", () => {
  it("keeps the name, code and first line, never the query values after it", () => {
    const err = Object.assign(new Error("\nInvalid `prisma.apiKey.create()` invocation:\n\n{ data: { hash: \"secret-hmac\" } }"), { name: "PrismaClientValidationError", code: "P2009" });
    const described = describeErrorForLog(err);
    expect(described).toEqual({ name: "PrismaClientValidationError", code: "P2009", message: "Invalid `prisma.apiKey.create()` invocation:" });
    expect(JSON.stringify(described)).not.toContain("secret-hmac");
  });
  it("handles non-errors", () => {
    expect(describeErrorForLog("boom\nsecret")).toEqual({ name: "NonError", message: "boom" });
  });
});
