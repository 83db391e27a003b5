// OSCAL Assessment Results (1.2.x) from a report: one observation per control (methods TEST, its
// value, threshold and population as props, the report's JSON as relevant evidence with hashes),
// one finding per CSF 2.0 subcategory targeting its statement (satisfied / pass, not-satisfied /
// fail, not-satisfied / other for partial and for not measurable, told apart by a prop). Every
// UUID is a v5 of the report id and the element's name, so one report always exports the same ids.
import { CSF_CATALOG_SHA256 } from "./catalog/csf-catalog";
import { STATUS_LABELS, type TReportContent, type TReportControl } from "./report-content";
import { uuidV5 } from "./uuid-v5";

export const OSCAL_VERSION = "1.2.2";
/** Namespace of Tether's own props. */
export const TETHER_NS = "urn:tether:compliance";
const CSF_CATALOG_URL =
  "https://raw.githubusercontent.com/usnistgov/oscal-content/78650f02ad9321bb7b817846f8fbd4f2bcd620de/nist.gov/CSF/v2.0/json/NIST_CSF_v2.0_catalog-min.json";

type TProp = { name: string; value: string; ns?: string; remarks?: string };

const prop = (name: string, value: string | number): TProp => ({ name, ns: TETHER_NS, value: String(value) });

function formatValue(c: TReportControl): string {
  if (c.value === null) return "no value";
  if (c.metric === "ratio") return `${(c.value * 100).toFixed(2)} %`;
  if (c.metric === "duration_ms") return `${c.value} ms`;
  return `${c.value} ${c.unit ?? ""}`.trim();
}

function observationDescription(c: TReportControl): string {
  const head = `${c.id} ${c.title}: ${STATUS_LABELS[c.status].toLowerCase()}.`;
  if (c.status === "not_measurable") return `${head} Not measurable: ${c.reason ?? "no data"}.`;
  const threshold = c.threshold ? ` Threshold: ${c.threshold.target} (${c.threshold.source}).` : "";
  return `${head} Measured: ${formatValue(c)} over a population of ${c.population ?? 0}.${threshold}${c.reason ? ` ${c.reason}.` : ""} Definition: ${c.definition}`;
}

export function reportToOscal(content: TReportContent, contentSha256: string, options: { reportUrl: string }): unknown {
  const id = content.reportId;
  const u = (name: string) => uuidV5(`${id}/${name}`);
  const apResource = u("assessment-plan");
  const catalogResource = u("catalog");
  const reportResource = u("report-json");
  const observationUuid = new Map(content.controls.map((c) => [c.id, u(`observation/${c.id}`)]));

  const observations = content.controls.map((c) => ({
    uuid: observationUuid.get(c.id)!,
    title: `${c.id} ${c.title}`,
    description: observationDescription(c),
    props: [
      prop("control-id", c.id),
      prop("status", c.status === "not_measurable" ? "not-measurable" : c.status),
      ...(c.value !== null ? [prop("measured-value", c.value)] : []),
      ...(c.population !== null ? [prop("population", c.population)] : []),
      ...(c.violations !== null ? [prop("violations", c.violations)] : []),
      ...(c.threshold ? [prop("threshold-target", c.threshold.target), prop("threshold-source", c.threshold.source)] : []),
      ...(c.threshold?.partial !== null && c.threshold?.partial !== undefined ? [prop("threshold-partial", c.threshold.partial)] : []),
      ...c.sp80053.map((s) => prop("sp800-53r5", s)),
      ...c.owasp.map((o) => prop("owasp-agentic", o)),
    ],
    methods: ["TEST"],
    types: ["control-objective"],
    origins: [{ actors: [{ type: "tool", "actor-uuid": u("tool") }] }],
    "relevant-evidence": [
      {
        href: `${options.reportUrl}#${c.id}`,
        description: c.query
          ? `Report JSON (${content.schema}), control ${c.id}: the metric's exact SQL, its parameters and result, computed from audit events covered by the signed checkpoint at chain position ${content.checkpoint.position}.`
          : `Report JSON (${content.schema}), control ${c.id}: why it is not measurable.`,
        props: [
          prop("report-content-sha256", contentSha256),
          prop("audit-checkpoint-position", content.checkpoint.position),
          prop("audit-checkpoint-hash", content.checkpoint.hash),
          ...(c.query ? [prop("query-sha256", c.query.sha256)] : []),
        ],
      },
    ],
    collected: content.generatedAt,
  }));

  const findings = content.subcategories.map((s) => {
    const state = s.status === "pass" ? "satisfied" : "not-satisfied";
    const reason = s.status === "pass" ? "pass" : s.status === "fail" ? "fail" : "other";
    const controls = content.controls.filter((c) => s.controls.includes(c.id));
    const summary = controls.map((c) => `${c.id} ${STATUS_LABELS[c.status].toLowerCase()}`).join(", ");
    return {
      uuid: u(`finding/${s.id}`),
      title: `${s.id} ${STATUS_LABELS[s.status].toLowerCase()}`,
      description: `${s.statement ?? s.id}. Controls: ${summary}.${s.status === "not_measurable" ? " None of its controls could be measured for this period." : ""}`,
      props: [prop("status", s.status === "not_measurable" ? "not-measurable" : s.status)],
      target: { type: "statement-id", "target-id": `${s.id}_statement`, status: { state, reason } },
      "related-observations": controls.map((c) => ({ "observation-uuid": observationUuid.get(c.id)! })),
    };
  });

  return {
    "assessment-results": {
      uuid: u("assessment-results"),
      metadata: {
        title: `${content.title}: ${content.period.label} (${content.period.start} – ${content.period.end})`,
        "last-modified": content.generatedAt,
        version: id,
        "oscal-version": OSCAL_VERSION,
        props: [prop("report-id", id), prop("report-content-sha256", contentSha256)],
        roles: [{ id: "assessor", title: "Assessor" }],
        parties: [{ uuid: u("party/requester"), type: "person", name: content.requestedBy.name }],
        "responsible-parties": [{ "role-id": "assessor", "party-uuids": [u("party/requester")] }],
      },
      "import-ap": { href: `#${apResource}` },
      results: [
        {
          uuid: u("result"),
          title: `${content.title}: ${content.period.label}`,
          description: `Automated metrics over ${content.period.start} – ${content.period.end}: ${content.summary.pass} passed, ${content.summary.fail} failed, ${content.summary.partial} partial, ${content.summary.notMeasurable} not measurable. Computed from audit events covered by the Ed25519-signed checkpoint at chain position ${content.checkpoint.position} (hash ${content.checkpoint.hash}).`,
          start: content.period.start,
          end: content.period.end,
          "local-definitions": {
            "assessment-assets": {
              components: [
                {
                  uuid: u("tool"),
                  type: "software",
                  title: "Tether compliance reports",
                  description: "Computes task-handle governance controls (H-01 … H-22) from Tether's handle inventory and its hash-chained, signed audit trail.",
                  status: { state: "operational" },
                },
              ],
              "assessment-platforms": [{ uuid: u("platform"), title: "Tether", "uses-components": [{ "component-uuid": u("tool") }] }],
            },
          },
          props: [
            prop("audit-checkpoint-position", content.checkpoint.position),
            prop("audit-checkpoint-hash", content.checkpoint.hash),
            prop("audit-checkpoint-key-id", content.checkpoint.keyId),
            prop("audit-checkpoint-signature", content.checkpoint.signature),
            ...(content.policy.version !== null ? [prop("policy-version", content.policy.version)] : []),
          ],
          "reviewed-controls": {
            "control-selections": [{ "include-controls": content.subcategories.map((s) => ({ "control-id": s.id })) }],
          },
          observations,
          findings,
        },
      ],
      "back-matter": {
        resources: [
          {
            uuid: apResource,
            title: "Assessment method",
            description: "Tether's controls as data (lib/compliance/controls): each control's metric is an SQL query over the handle inventory and the audit trail for the period, with a threshold from the versioned handle policy.",
          },
          {
            uuid: catalogResource,
            title: "NIST Cybersecurity Framework 2.0 (OSCAL catalog)",
            citation: { text: content.catalog.citation },
            rlinks: [{ href: CSF_CATALOG_URL, "media-type": "application/json", hashes: [{ algorithm: "SHA-256", value: CSF_CATALOG_SHA256 }] }],
          },
          {
            uuid: reportResource,
            title: `Tether compliance report ${id}`,
            rlinks: [{ href: options.reportUrl, "media-type": "application/json", hashes: [{ algorithm: "SHA-256", value: contentSha256 }] }],
          },
        ],
      },
    },
  };
}
