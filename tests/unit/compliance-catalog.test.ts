// The shipped NIST CSF 2.0 catalog: the file is NIST's, byte for byte; the loader keeps NIST's
// order (sort-id), leaves withdrawn CSF 1.1 items out of the 2.0 list and uses them as the
// official 1.1 → 2.0 crosswalk.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CSF_CATALOG_FILE,
  CSF_CATALOG_SHA256,
  currentSubcategories,
  loadCsfCatalog,
  normaliseCsfId,
  parseCsfCatalog,
  searchCsf,
  successorsOf,
} from "@/lib/compliance/catalog/csf-catalog";
import { CONTROLS } from "@/lib/compliance/controls";

describe("the shipped catalog", () => {
  it("is the verified copy named in its source note", () => {
    const bytes = readFileSync(CSF_CATALOG_FILE);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(CSF_CATALOG_SHA256);
    expect(readFileSync("data/nist-csf-2.0/SOURCE.md", "utf8")).toContain(CSF_CATALOG_SHA256);
  });

  it("has NIST's counts: 6 functions, 22 categories and 106 subcategories in force, 79 withdrawn subcategories", () => {
    const catalog = loadCsfCatalog();
    const of = (kind: string, withdrawn: boolean) => catalog.items.filter((i) => i.kind === kind && i.withdrawn === withdrawn).length;
    expect(of("function", false)).toBe(6);
    expect(of("category", false)).toBe(22);
    expect(of("subcategory", false)).toBe(106);
    expect(of("subcategory", true)).toBe(79);
    expect(catalog.version).toBe("1.2.0");
    expect(catalog.oscalVersion).toBe("v1.2.2");
  });

  it("is in NIST's sort-id order, not the file's alphabetical order", () => {
    const categories = loadCsfCatalog().items.filter((i) => i.kind === "category" && !i.withdrawn && i.functionId === "GV").map((i) => i.id);
    expect(categories).toEqual(["GV.OC", "GV.RM", "GV.RR", "GV.PO", "GV.OV", "GV.SC"]);
    const sortIds = loadCsfCatalog().items.map((i) => i.sortId);
    expect([...sortIds].sort()).toEqual(sortIds);
    expect(currentSubcategories()[0]!.id).toBe("GV.OC-01");
    expect(currentSubcategories().at(-1)!.id).toBe("RC.CO-04");
  });

  it("carries NIST's statement text and implementation examples", () => {
    const item = loadCsfCatalog().byId.get("PR.AA-05")!;
    expect(item.statement).toBe(
      "Access permissions, entitlements, and authorizations are defined in a policy, managed, enforced, and reviewed, and incorporate the principles of least privilege and separation of duties",
    );
    expect(item.examples.map((e) => e.id)).toEqual(expect.arrayContaining(["PR.AA-05.207", "PR.AA-05.210"]));
    expect(item.categoryId).toBe("PR.AA");
  });
});

describe("the CSF 1.1 → 2.0 crosswalk", () => {
  it("finds PR.AA-05 when a user searches the seed's PR.AC-4", () => {
    const hits = searchCsf("PR.AC-4");
    expect(hits[0]).toMatchObject({ via: "id", item: { id: "PR.AC-04", withdrawn: true } });
    expect(hits.slice(1).map((h) => [h.item.id, h.via, h.from?.rel])).toEqual([["PR.AA-05", "crosswalk", "moved_to"]]);
  });

  it("follows incorporated_into links to several 2.0 items, in NIST's order", () => {
    expect(successorsOf("PR.AC-01").map((s) => [s.item.id, s.rel])).toEqual([
      ["PR.AA-01", "incorporated_into"],
      ["PR.AA-05", "incorporated_into"],
    ]);
    expect(successorsOf("DE.CM-07").map((s) => s.item.id)).toEqual(["DE.CM-01", "DE.CM-03", "DE.CM-06", "DE.CM-09"]);
  });

  it("normalises 1.1 spellings and refuses text that is not an id", () => {
    expect(normaliseCsfId(" pr.ac-4 ")).toBe("PR.AC-04");
    expect(normaliseCsfId("PR.AA-05")).toBe("PR.AA-05");
    expect(normaliseCsfId("PR.AA")).toBe("PR.AA");
    expect(normaliseCsfId("PR.AC-4; DROP")).toBeNull();
    expect(searchCsf("XX.YY-1")).toEqual([]);
  });

  it("searches statements by words when the text is not an id", () => {
    const hits = searchCsf("log records");
    expect(hits.map((h) => h.item.id)).toContain("PR.PS-04");
    expect(hits.every((h) => h.via === "text" && !h.item.withdrawn)).toBe(true);
  });

  it("parses NIST's and SP 800-53's link spellings alike", () => {
    const doc = {
      catalog: {
        uuid: "u",
        metadata: { title: "t", version: "1", "oscal-version": "1.2.2", "last-modified": "2026-01-01T00:00:00Z" },
        groups: [
          {
            id: "PR",
            title: "PROTECT",
            props: [{ name: "sort-id", value: "1" }],
            controls: [
              { id: "PR.AA", title: "A", props: [{ name: "sort-id", value: "1.2" }], controls: [{ id: "PR.AA-05", title: "x", props: [{ name: "sort-id", value: "1.2.5" }] }] },
              {
                id: "PR.AC",
                title: "old",
                props: [{ name: "sort-id", value: "1.1" }, { name: "status", value: "withdrawn" }],
                controls: [{ id: "PR.AC-04", title: "y", props: [{ name: "sort-id", value: "1.1.4" }, { name: "status", value: "withdrawn" }], links: [{ href: "#PR.AA-05", rel: "moved-to" }] }],
              },
            ],
          },
        ],
      },
    };
    const catalog = parseCsfCatalog(doc);
    expect(catalog.items.map((i) => i.id)).toEqual(["PR", "PR.AC", "PR.AC-04", "PR.AA", "PR.AA-05"]);
    expect(successorsOf("PR.AC-04", catalog).map((s) => [s.item.id, s.rel])).toEqual([["PR.AA-05", "moved_to"]]);
  });
});

describe("the controls' mappings", () => {
  it("name only CSF 2.0 subcategories in force", () => {
    const catalog = loadCsfCatalog();
    for (const c of CONTROLS) {
      for (const id of c.csf) {
        const item = catalog.byId.get(id);
        expect(item, `${c.id} → ${id}`).toBeDefined();
        expect(item!.kind, `${c.id} → ${id}`).toBe("subcategory");
        expect(item!.withdrawn, `${c.id} → ${id}`).toBe(false);
      }
    }
  });
});
