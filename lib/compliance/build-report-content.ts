// Assembles a report's content from the measured controls. Pure, so the tests can check the
// roll-up per CSF subcategory and the hash on hand-made results.
import { sha256Hex } from "@/lib/audit/chain-core.mjs";
import { CSF_CATALOG_FILE, CSF_CATALOG_SHA256, CSF_CITATION, loadCsfCatalog, type TCsfCatalog } from "./catalog/csf-catalog";
import { CONTROLS } from "./controls";
import type { TControl } from "./controls/types";
import { rollUpStatus } from "./evaluate-control";
import type { TControlResult } from "./measure-control";
import { REPORT_SCHEMA_ID, summarise, type TReportContent, type TReportControl, type TReportSubcategory } from "./report-content";

export const REPORT_TITLE = "Task-handle governance — NIST CSF 2.0";

export type TReportHeader = {
  reportId: string;
  period: { start: Date; end: Date; label: string };
  generatedAt: Date;
  requestedBy: { id: string; name: string; role: string };
  policyVersion: number | null;
  checkpoint: { position: string; hash: string; createdAt: Date; keyId: string; signature: string; publicKey: string };
};

function toReportControl(control: TControl, result: TControlResult): TReportControl {
  return {
    id: control.id,
    title: control.title,
    definition: control.definition,
    status: result.status,
    reason: result.reason,
    metric: control.kind === "measured" ? control.metric : null,
    unit: control.kind === "measured" ? control.unit : null,
    value: result.value,
    population: result.population,
    violations: result.violations,
    threshold: result.threshold ? { target: result.threshold.target, partial: result.threshold.partial, source: result.threshold.source, ...(result.threshold.note ? { note: result.threshold.note } : {}) } : null,
    details: result.details,
    csf: control.csf,
    sp80053: control.sp80053,
    owasp: control.owasp,
    sample: result.sample,
    query: result.query ? { sql: result.query.sql, sha256: sha256Hex(Buffer.from(result.query.sql, "utf8")), parameters: result.query.parameters } : null,
    trend: result.trend,
  };
}

/** One row per CSF 2.0 subcategory any control supports, in NIST's order, with the roll-up of its controls. */
export function buildSubcategories(controls: TReportControl[], catalog: TCsfCatalog = loadCsfCatalog()): TReportSubcategory[] {
  const ids = new Set(controls.flatMap((c) => c.csf));
  return catalog.items
    .filter((item) => item.kind === "subcategory" && !item.withdrawn && ids.has(item.id))
    .map((item) => {
      const mine = controls.filter((c) => c.csf.includes(item.id));
      return {
        id: item.id,
        statement: item.statement,
        functionId: item.functionId,
        categoryId: item.categoryId,
        status: rollUpStatus(mine.map((c) => c.status)),
        controls: mine.map((c) => c.id),
      };
    });
}

export function buildReportContent(header: TReportHeader, results: ReadonlyMap<string, TControlResult>, catalog: TCsfCatalog = loadCsfCatalog()): TReportContent {
  const controls = CONTROLS.map((control) => {
    const result = results.get(control.id);
    if (!result) throw new Error(`no result for ${control.id}`);
    return toReportControl(control, result);
  });
  return {
    schema: REPORT_SCHEMA_ID,
    reportId: header.reportId,
    title: REPORT_TITLE,
    period: { start: header.period.start.toISOString(), end: header.period.end.toISOString(), label: header.period.label },
    generatedAt: header.generatedAt.toISOString(),
    requestedBy: header.requestedBy,
    policy: { version: header.policyVersion },
    catalog: { title: catalog.title, version: catalog.version, oscalVersion: catalog.oscalVersion, file: CSF_CATALOG_FILE, sha256: CSF_CATALOG_SHA256, citation: CSF_CITATION },
    checkpoint: { ...header.checkpoint, createdAt: header.checkpoint.createdAt.toISOString() },
    summary: summarise(controls),
    controls,
    subcategories: buildSubcategories(controls, catalog),
  };
}
