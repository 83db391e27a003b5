import { describe, expect, it } from "vitest";
import { safeReturnPath } from "@/lib/http/safe-return-path";

describe("safeReturnPath (no open redirects)", () => {
  it.each([
    ["/handles?status=working", "/handles?status=working"],
    ["/admin", "/admin"],
  ])("keeps the relative path %s", (input, out) => expect(safeReturnPath(input)).toBe(out));

  it.each(["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "handles", "/a\nb", 42, undefined, "/" + "a".repeat(3000)])(
    "replaces %s with the fallback",
    (input) => expect(safeReturnPath(input, "/")).toBe("/"),
  );
});
