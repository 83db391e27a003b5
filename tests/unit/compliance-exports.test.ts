// A report's exports from hand-made results: the canonical JSON and its hash, the CSV (one row per
// control), the OSCAL Assessment Results (validated against the structure OSCAL 1.2.x requires),
// the print HTML and its server-rendered SVG trend charts.
import { describe, expect, it } from "vitest";
import { buildReportContent } from "@/lib/compliance/build-report-content";
import { currentSubcategories, loadCsfCatalog } from "@/lib/compliance/catalog/csf-catalog";
import { CONTROLS } from "@/lib/compliance/controls";
import type { TControlStatus } from "@/lib/compliance/controls/types";
import type { TControlResult } from "@/lib/compliance/measure-control";
import { OSCAL_UUID, checkAssessmentResults } from "@/lib/compliance/oscal-structure";
import { renderReportHtml } from "@/lib/compliance/render-report-html";
import { ZReportContent, canonicalReport, reportSha256 } from "@/lib/compliance/report-content";
import { CSV_COLUMNS, reportToCsv } from "@/lib/compliance/to-csv";
import { reportToOscal } from "@/lib/compliance/to-oscal";
import { renderTrendSvg } from "@/lib/compliance/trend-chart-svg";
import { thresholdFor } from "@/lib/compliance/thresholds";

/** RFC 4180 records (quoted fields, doubled quotes, newlines inside quotes) as objects keyed by the header. */
function parseCsv(text: string): Array<Record<string, string>> {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      record.push(field);
      field = "";
    } else if (ch === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else if (ch !== "\r") field += ch;
  }
  const [header, ...rows] = records;
  return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ""])));
}

const REPORT_ID = "3f2b8c1e-5a6d-4e7f-9a0b-1c2d3e4f5a6b";
// Statuses chosen so every kind appears: H-02 fails, H-03 and H-14 are partial, H-05 (vacuous) and H-06/19/22 are not measurable.
const STATUS: Record<string, TControlStatus> = { "H-02": "fail", "H-03": "partial", "H-14": "partial", "H-05": "not_measurable" };

function results(): Map<string, TControlResult> {
  return new Map(
    CONTROLS.map((c) => {
      const status: TControlStatus = c.kind === "not_measurable" ? "not_measurable" : (STATUS[c.id] ?? "pass");
      const measured = c.kind === "measured" && status !== "not_measurable";
      return [
        c.id,
        {
          id: c.id,
          status,
          reason: c.kind === "not_measurable" ? c.reason : status === "not_measurable" ? "vacuous: nothing happened" : null,
          value: measured ? (c.id === "H-02" ? 3 : c.id === "H-03" ? 0.96 : c.metric === "ratio" ? 1 : 0) : null,
          population: measured ? 25 : null,
          violations: measured ? (c.id === "H-02" ? 3 : 0) : null,
          details: (c.id === "H-03" ? { nonExpiring: 0 } : {}) as Record<string, number>,
          threshold: thresholdFor(c, {}),
          sample: c.id === "H-02" ? [{ kind: "handle", accessor: "hdl_0123456789abcdef0123" }] : [],
          query: c.kind === "measured" ? { sql: c.sql, parameters: { start: "2026-10-01T00:00:00.000Z", end: "2026-11-01T00:00:00.000Z" } } : null,
          trend: c.kind === "measured" ? [{ start: "2026-09-01T00:00:00.000Z", end: "2026-10-01T00:00:00.000Z", value: null, status: "not_measurable" }, { start: "2026-10-01T00:00:00.000Z", end: "2026-11-01T00:00:00.000Z", value: measured ? 1 : null, status }] : [],
        } satisfies TControlResult,
      ];
    }),
  );
}

function content() {
  return buildReportContent(
    {
      reportId: REPORT_ID,
      period: { start: new Date("2026-10-01T00:00:00Z"), end: new Date("2026-11-01T00:00:00Z"), label: "Custom" },
      generatedAt: new Date("2026-11-02T08:00:00Z"),
      requestedBy: { id: "a1b2c3d4-0000-4000-8000-000000000001", name: "Ada <Auditor>", role: "auditor" },
      policyVersion: 3,
      checkpoint: { position: "1234", hash: "ab".repeat(32), createdAt: new Date("2026-11-02T07:59:59Z"), keyId: "key-1", signature: "sig==", publicKey: "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n" },
    },
    results(),
  );
}

describe("the report content", () => {
  it("follows its schema, summarises the controls and rolls them up per CSF subcategory in NIST's order", () => {
    const c = content();
    expect(ZReportContent.parse(c)).toEqual(c);
    expect(c.summary).toEqual({ pass: 15, fail: 1, partial: 2, notMeasurable: 4 });
    const order = currentSubcategories().map((s) => s.id);
    expect(c.subcategories.map((s) => s.id)).toEqual(order.filter((id) => c.subcategories.some((s) => s.id === id)));
    const aa05 = c.subcategories.find((s) => s.id === "PR.AA-05")!;
    expect(aa05.status).toBe("fail"); // H-02 fails
    expect(aa05.statement).toBe(loadCsfCatalog().byId.get("PR.AA-05")!.statement);
    expect(c.subcategories.find((s) => s.id === "DE.AE-02")?.status).toBe("not_measurable"); // only H-06 maps there
    expect(c.controls.find((x) => x.id === "H-02")!.query!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("hashes its RFC 8785 canonical form: the same whatever the key order", () => {
    const c = content();
    const canonical = canonicalReport(c);
    const reverseKeys = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reverseKeys) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)])) : v;
    const shuffled = reverseKeys(c) as typeof c;
    expect(JSON.stringify(shuffled)).not.toBe(JSON.stringify(c));
    expect(canonicalReport(shuffled)).toBe(canonical);
    expect(reportSha256(canonical)).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalReport(JSON.parse(canonical))).toBe(canonical);
  });
});

describe("the CSV export", () => {
  it("has one row per control with the evidence on each row", () => {
    const c = content();
    const rows = parseCsv(reportToCsv(c, "f".repeat(64)));
    expect(Object.keys(rows[0]!)).toEqual([...CSV_COLUMNS]);
    expect(rows.map((r) => r.control_id)).toEqual(CONTROLS.map((x) => x.id));
    expect(rows.find((r) => r.control_id === "H-02")).toMatchObject({ status: "fail", value: "3", violations: "3", sample_handles: "hdl_0123456789abcdef0123", threshold_target: "0", threshold_source: "default" });
    expect(rows.find((r) => r.control_id === "H-19")).toMatchObject({ status: "not_measurable", value: "", reason: expect.stringMatching(/no review or attestation record/) });
    expect(rows.every((r) => r.report_content_sha256 === "f".repeat(64) && r.audit_checkpoint_position === "1234")).toBe(true);
  });
});

describe("the OSCAL Assessment Results export", () => {
  const controlIds = new Set(currentSubcategories().map((s) => s.id));

  it("has the structure OSCAL 1.2.x requires, with v4/v5 UUIDs and control ids of the catalog", () => {
    const doc = reportToOscal(content(), "f".repeat(64), { reportUrl: `https://tether.example/api/v1/reports/${REPORT_ID}?format=json` });
    expect(checkAssessmentResults(doc, controlIds)).toEqual([]);
    const text = JSON.stringify(doc);
    const uuids = text.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)!;
    expect(uuids.length).toBeGreaterThan(40);
    // Every UUID is a v4 or v5 (the requester's id is not a UUID field: it is not in the document).
    for (const u of uuids) expect(u, u).toMatch(OSCAL_UUID);
  });

  it("has one observation per control and one finding per CSF subcategory with the status mapping", () => {
    const c = content();
    const doc = reportToOscal(c, "f".repeat(64), { reportUrl: "/api/v1/reports/x?format=json" }) as { "assessment-results": { results: Array<{ observations: Array<{ title: string; "relevant-evidence": unknown[]; methods: string[] }>; findings: Array<{ target: { "target-id": string; status: { state: string; reason: string } }; props: Array<{ value: string }> }> }> } };
    const result = doc["assessment-results"].results[0]!;
    expect(result.observations.map((o) => o.title.split(" ")[0])).toEqual(CONTROLS.map((x) => x.id));
    expect(result.observations.every((o) => o["relevant-evidence"].length === 1 && o.methods[0] === "TEST")).toBe(true);
    expect(result.findings.map((f) => f.target["target-id"])).toEqual(c.subcategories.map((s) => `${s.id}_statement`));
    const byId = new Map(result.findings.map((f) => [f.target["target-id"].replace("_statement", ""), f]));
    expect(byId.get("PR.AA-05")!.target.status).toEqual({ state: "not-satisfied", reason: "fail" });
    expect(byId.get("PR.AA-04")!.target.status).toEqual({ state: "not-satisfied", reason: "other" }); // H-14 partial, H-05 not measurable
    expect(byId.get("PR.AA-04")!.props[0]!.value).toBe("partial");
    expect(byId.get("PR.DS-02")!.target.status).toEqual({ state: "satisfied", reason: "pass" });
    expect(byId.get("DE.AE-02")!.props[0]!.value).toBe("not-measurable");
  });

  it("is refused by the check when a required field, a UUID or a control id is wrong", () => {
    const doc = reportToOscal(content(), "f".repeat(64), { reportUrl: "/r" }) as { "assessment-results": Record<string, unknown> & { results: Array<Record<string, unknown>> } };
    const broken = structuredClone(doc);
    delete (broken["assessment-results"] as Record<string, unknown>)["import-ap"];
    expect(checkAssessmentResults(broken, controlIds).join()).toMatch(/import-ap/);
    const v7 = structuredClone(doc);
    (v7["assessment-results"] as Record<string, unknown>).uuid = "01890a5d-ac96-774b-bcce-b302099a8057";
    expect(checkAssessmentResults(v7, controlIds).join()).toMatch(/v4\/v5/);
    expect(checkAssessmentResults(doc, new Set(["PR.AA-05"])).join()).toMatch(/is not a control of the catalog/);
  });
});

describe("the print HTML and its charts", () => {
  it("renders a self-contained page with an SVG chart per measured control and escapes text", () => {
    const html = renderReportHtml(content(), "f".repeat(64), { baseUrl: "https://tether.example" });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("@page");
    expect(html).toContain("Ada &lt;Auditor&gt;");
    expect(html).toContain('href="https://tether.example/handles/hdl_0123456789abcdef0123"');
    expect((html.match(/<svg /g) ?? []).length).toBe(CONTROLS.filter((c) => c.kind === "measured").length);
  });

  it("draws the threshold, a marker per period and names every point in its accessible label", () => {
    const svg = renderTrendSvg({
      id: "H-07",
      title: "Revocation latency",
      metric: "duration_ms",
      threshold: { target: 60_000, partial: null, source: "default" },
      trend: [
        { start: "2026-09-01T00:00:00Z", end: "2026-10-01T00:00:00Z", value: 1200, status: "pass" },
        { start: "2026-10-01T00:00:00Z", end: "2026-11-01T00:00:00Z", value: 90_000, status: "fail" },
        { start: "2026-11-01T00:00:00Z", end: "2026-12-01T00:00:00Z", value: null, status: "not_measurable" },
      ],
    });
    expect(svg).toContain('stroke-dasharray="4 3"'); // the threshold line
    expect(svg).toContain("threshold 1.0 min");
    expect(svg).toMatch(/aria-label="H-07 Revocation latency: 10-01 1.2 s \(pass\); 11-01 1.5 min \(fail\); 12-01 not measurable \(not measurable\)"/);
    expect(svg.match(/<circle /g)?.length).toBe(2); // pass (filled) and not measurable (hollow); fail is a cross
  });
});
