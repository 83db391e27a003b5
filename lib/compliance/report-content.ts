// The report's own JSON schema ("tether.compliance-report/1"): what is stored, hashed, exported as
// JSON and rendered. Every number in it comes from a metric query over Tether's data; the exact
// query text and parameter values travel with each control. Documented in the README.
import { z } from "zod";
import { canonicalJson, sha256Hex } from "@/lib/audit/chain-core.mjs";

export const REPORT_SCHEMA_ID = "tether.compliance-report/1";

export const CONTROL_STATUSES = ["pass", "fail", "partial", "not_measurable"] as const;
export const ZControlStatus = z.enum(CONTROL_STATUSES);

const ZDetailValue = z.union([z.number(), z.string(), z.boolean(), z.null()]);

export const ZReportControl = z.object({
  id: z.string(),
  title: z.string(),
  definition: z.string(),
  status: ZControlStatus,
  reason: z.string().nullable(),
  metric: z.enum(["ratio", "count", "duration_ms", "days"]).nullable(),
  unit: z.string().nullable(),
  value: z.number().nullable(),
  population: z.number().nullable(),
  violations: z.number().nullable(),
  threshold: z
    .object({ target: z.number(), partial: z.number().nullable(), source: z.enum(["policy", "default"]), note: z.string().optional() })
    .nullable(),
  details: z.record(z.string(), ZDetailValue),
  csf: z.array(z.string()),
  sp80053: z.array(z.string()),
  owasp: z.array(z.string()),
  sample: z.array(z.union([z.object({ kind: z.literal("handle"), accessor: z.string() }), z.object({ kind: z.literal("principal"), id: z.string(), label: z.string() })])),
  query: z.object({ sql: z.string(), sha256: z.string(), parameters: z.record(z.string(), z.union([z.string(), z.number()])) }).nullable(),
  trend: z.array(z.object({ start: z.string(), end: z.string(), value: z.number().nullable(), status: ZControlStatus })),
});
export type TReportControl = z.infer<typeof ZReportControl>;

export const ZReportSubcategory = z.object({
  id: z.string(),
  statement: z.string().nullable(),
  functionId: z.string(),
  categoryId: z.string().nullable(),
  status: ZControlStatus,
  controls: z.array(z.string()),
});
export type TReportSubcategory = z.infer<typeof ZReportSubcategory>;

export const ZReportSummary = z.object({
  pass: z.number().int(),
  fail: z.number().int(),
  partial: z.number().int(),
  notMeasurable: z.number().int(),
});
export type TReportSummary = z.infer<typeof ZReportSummary>;

export const ZReportContent = z.object({
  schema: z.literal(REPORT_SCHEMA_ID),
  reportId: z.string().uuid(),
  title: z.string(),
  period: z.object({ start: z.string(), end: z.string(), label: z.string() }),
  generatedAt: z.string(),
  requestedBy: z.object({ id: z.string(), name: z.string(), role: z.string() }),
  policy: z.object({ version: z.number().int().nullable() }),
  catalog: z.object({ title: z.string(), version: z.string(), oscalVersion: z.string(), file: z.string(), sha256: z.string(), citation: z.string() }),
  checkpoint: z.object({
    position: z.string(),
    hash: z.string(),
    createdAt: z.string(),
    keyId: z.string(),
    signature: z.string(),
    publicKey: z.string(),
  }),
  summary: ZReportSummary,
  controls: z.array(ZReportControl),
  subcategories: z.array(ZReportSubcategory),
});
export type TReportContent = z.infer<typeof ZReportContent>;

/** The bytes a report's SHA-256 covers: its content as RFC 8785 canonical JSON. */
export function canonicalReport(content: TReportContent): string {
  return canonicalJson(content);
}

export function reportSha256(canonical: string): string {
  return sha256Hex(Buffer.from(canonical, "utf8"));
}

export function summarise(controls: Array<{ status: (typeof CONTROL_STATUSES)[number] }>): TReportSummary {
  const count = (s: string) => controls.filter((c) => c.status === s).length;
  return { pass: count("pass"), fail: count("fail"), partial: count("partial"), notMeasurable: count("not_measurable") };
}

export const STATUS_LABELS: Record<(typeof CONTROL_STATUSES)[number], string> = {
  pass: "Pass",
  fail: "Fail",
  partial: "Partial",
  not_measurable: "Not measurable",
};
