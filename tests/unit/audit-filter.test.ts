// The audit filter's two parsers (strict for the API, lenient for the page), its cursor, and
// the Audit page's URLs: pure logic, so it is tested without a database.
import { describe, expect, it } from "vitest";
import { auditPageLinks, exportHref, parsePrev } from "@/components/audit/urls";
import {
  auditFilterToSearchParams,
  decodeAuditCursor,
  encodeAuditCursor,
  normaliseAuditFilter,
  parseAuditFilter,
  parseAuditFilterLenient,
  toQueryRecord,
} from "@/lib/audit/schemas";
import { AppError } from "@/lib/errors";

const c = (seq: number) => encodeAuditCursor(String(seq));

describe("audit cursor", () => {
  it("round-trips any seq and refuses everything it did not make", () => {
    for (const seq of ["1", "42", "9223372036854775807"]) expect(decodeAuditCursor(encodeAuditCursor(seq))).toBe(seq);
    for (const bad of ["", "!!", "MDEy", "LTE", "MTIz=", "MTIzA", encodeAuditCursor("9223372036854775808"), encodeAuditCursor("0"), "a".repeat(40)]) {
      expect(decodeAuditCursor(bad), bad).toBeNull();
    }
  });
});

describe("parseAuditFilter (strict)", () => {
  it("parses query strings: lists repeated or comma-separated, sorted and de-duplicated, blanks absent", () => {
    const f = parseAuditFilter(
      toQueryRecord(new URLSearchParams("actorType=user,system&actorType=user&action=auth.signed_in&outcome=&from=2026-11-01T10:00&to=2026-11-02T00:00:00%2B02:00&limit=20")),
    );
    expect(f).toEqual({
      actorType: ["system", "user"],
      action: ["auth.signed_in"],
      from: new Date("2026-11-01T10:00:00Z"),
      to: new Date("2026-11-01T22:00:00Z"),
      limit: 20,
    });
    expect(parseAuditFilter({})).toEqual({ limit: 50 });
  });

  it("throws INVALID_INPUT with one issue per field", () => {
    const err = (() => {
      try {
        parseAuditFilter({ limit: "0", actorId: ["a", "b"], from: "yesterday" });
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(err).toBeInstanceOf(AppError);
    expect(err!.status).toBe(422);
    expect(err!.issues!.map((i) => i.path).sort()).toEqual(["actorId", "from", "limit"]);
    expect(err!.issues!.find((i) => i.path === "actorId")!.message).toBe("Give this parameter only once.");
  });
});

describe("parseAuditFilterLenient (pages)", () => {
  it("drops each bad parameter, keeps the good ones, and says what it dropped", () => {
    const { filter, issues } = parseAuditFilterLenient({
      action: "auth.signed_in",
      actorType: "robot",
      cursor: "garbage!",
      limit: "9999",
      from: "2026-11-02T00:00:00Z",
      to: "2026-11-01T00:00:00Z",
      unknown: "ignored",
    });
    expect(filter).toEqual({ action: ["auth.signed_in"], limit: 50 });
    expect(issues.map((i) => i.path)).toEqual(["actorType", "cursor", "limit", "to"]);
  });
});

describe("URL form", () => {
  it("round-trips through the query string and records no cursor", () => {
    const filter = parseAuditFilter({ action: ["user.enabled", "auth.signed_in"], targetType: "handle", targetId: "h1", from: "2026-11-01T00:00:00Z", limit: "25", cursor: c(9) });
    const params = auditFilterToSearchParams(filter);
    expect(params.toString()).toBe("from=2026-11-01T00%3A00%3A00.000Z&action=auth.signed_in&action=user.enabled&targetType=handle&targetId=h1&limit=25&cursor=OQ");
    expect(parseAuditFilter(toQueryRecord(params))).toEqual(filter);
    expect(normaliseAuditFilter(filter)).toEqual({ from: "2026-11-01T00:00:00.000Z", action: ["auth.signed_in", "user.enabled"], targetType: "handle", targetId: "h1", limit: 25 });
  });
});

describe("Audit page links", () => {
  const base = parseAuditFilter({ action: "auth.signed_in" });

  it("first page: Older only", () => {
    const links = auditPageLinks(base, [], c(100));
    expect(links).toEqual({
      list: "/audit?action=auth.signed_in",
      listQuery: "action=auth.signed_in",
      newest: null,
      newer: null,
      older: `/audit?action=auth.signed_in&cursor=${c(100)}`,
    });
  });

  it("deeper pages keep the cursors of newer pages, so Newer walks back exactly", () => {
    const page3 = { ...base, cursor: c(50) };
    const links = auditPageLinks(page3, [c(100)], c(10));
    expect(links.newest).toBe("/audit?action=auth.signed_in");
    expect(links.newer).toBe(`/audit?action=auth.signed_in&cursor=${c(100)}`);
    expect(links.older).toBe(`/audit?action=auth.signed_in&cursor=${c(10)}&prev=${c(100)}.${c(50)}`);
    expect(auditPageLinks({ ...base, cursor: c(100) }, [], null).newer).toBe("/audit?action=auth.signed_in");
  });

  it("reads the stack leniently and only together with a cursor", () => {
    expect(parsePrev({ prev: `${c(100)}.bad!.${c(50)}` }, c(10))).toEqual([c(100), c(50)]);
    expect(parsePrev({ prev: c(100) }, undefined)).toEqual([]);
  });

  it("exports the current time range only", () => {
    const f = parseAuditFilter({ from: "2026-11-01T00:00:00Z", action: "auth.signed_in" });
    expect(exportHref("csv", f)).toBe("/api/v1/audit/export?format=csv&from=2026-11-01T00%3A00%3A00.000Z");
  });
});
