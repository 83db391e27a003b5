// Reading COPY's text format (lib/audit/verify-copy-rows.ts) without a database: escapes, NULL,
// and rows or characters split across CopyData messages. The database side is covered by
// tests/integration/audit-verify-copy.test.ts.
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { copyRows, parseCopyTextRow, type TCopyField } from "@/lib/audit/verify-copy-rows";

describe("parseCopyTextRow", () => {
  it("splits on tabs, reads \\N as NULL and undoes COPY's escapes", () => {
    expect(parseCopyTextRow("1\tplain\t\\N\t")).toEqual(["1", "plain", null, ""]);
    expect(parseCopyTextRow(String.raw`a\tb\nc\rd\\e\bf\fg\vh`)).toEqual(["a\tb\nc\rd\\e\bf\fg\u000bh"]);
    // A literal backslash-N is escaped by COPY, so it stays text.
    expect(parseCopyTextRow(String.raw`\\N` + "\t" + String.raw`x\\N`)).toEqual(["\\N", "x\\N"]);
    expect(parseCopyTextRow(String.raw`{"k": "a\\"b"}`)).toEqual(['{"k": "a\\"b"}']);
    // Characters COPY writes unescaped pass through.
    expect(parseCopyTextRow('"\u0001é😀')).toEqual(['"\u0001é😀']);
  });

  it("refuses octal and hex escapes, which COPY TO never writes", () => {
    expect(() => parseCopyTextRow(String.raw`a\101`)).toThrow(/unexpected escape/);
    expect(() => parseCopyTextRow(String.raw`a\x41`)).toThrow(/unexpected escape/);
  });
});

/** A stand-in for pg's client that feeds the query the given CopyData messages, then ends it. */
function fakeClient(messages: Buffer[], error?: Error) {
  return {
    query(q: { handleCopyData(m: { chunk: Buffer }): void; emit(event: string, arg?: unknown): boolean }) {
      setImmediate(() => {
        for (const chunk of messages) q.handleCopyData({ chunk });
        if (error) q.emit("error", error);
        else q.emit("end");
      });
      return q;
    },
  } as unknown as pg.ClientBase;
}

describe("copyRows", () => {
  it("hands over rows whether a message holds one row, several, or part of one (even mid-character)", async () => {
    const text = Buffer.from("1\té😀\n2\t\\N\n3\tx\\ty\n");
    const cut = text.indexOf(Buffer.from("😀")) + 2; // inside the 4-byte character
    for (const messages of [[text], [text.subarray(0, cut), text.subarray(cut)], Array.from(text, (b) => Buffer.from([b]))]) {
      const rows: TCopyField[][] = [];
      await copyRows(fakeClient(messages), "COPY", (fields) => void rows.push(fields));
      expect(rows).toEqual([["1", "é😀"], ["2", null], ["3", "x\ty"]]);
    }
  });

  it("ignores the rest once the handler returns false", async () => {
    const rows: TCopyField[][] = [];
    await copyRows(fakeClient([Buffer.from("1\n2\n"), Buffer.from("3\n")]), "COPY", (fields) => {
      rows.push(fields);
      return fields[0] !== "2";
    });
    expect(rows).toEqual([["1"], ["2"]]);
  });

  it("rejects with the handler's error, or the query's", async () => {
    await expect(copyRows(fakeClient([Buffer.from("1\n")]), "COPY", () => {
      throw new Error("handler broke");
    })).rejects.toThrow("handler broke");
    await expect(copyRows(fakeClient([], new Error("connection lost")), "COPY", () => true)).rejects.toThrow("connection lost");
  });
});
