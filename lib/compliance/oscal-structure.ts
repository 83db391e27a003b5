// The structure OSCAL 1.2.x requires of an Assessment Results document, for the parts Tether emits:
// required fields, no unknown fields (the JSON schemas set additionalProperties: false), the
// datatypes (v4/v5 UUIDs only, date-times with a time zone, tokens, non-blank strings) and the
// allowed values of the metaschema constraints. Written from the AR metaschema (usnistgov/OSCAL
// v1.2.2); a full check against NIST's published JSON schema can be run with oscal-cli.
import { z } from "zod";

export const OSCAL_UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[45][0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$/;
const DATE_TIME_TZ = /^(?:(?:2000|2400|2800|(?:19|2[0-9](?:0[48]|[2468][048]|[13579][26])))-02-29|(?:(?:(?:19|2[0-9])[0-9]{2})-02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:(?:(?:19|2[0-9])[0-9]{2})-(?:0[13578]|10|12)-(?:0[1-9]|[12][0-9]|3[01]))|(?:(?:(?:19|2[0-9])[0-9]{2})-(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)))T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})$/;
const TOKEN = /^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$/u;
const NON_BLANK = /^\S(.*\S)?$/s;

const uuid = z.string().regex(OSCAL_UUID, "not a v4/v5 UUID");
const dateTimeTz = z.string().regex(DATE_TIME_TZ, "not a date-time with a time zone");
const token = z.string().regex(TOKEN, "not a token");
const str = z.string().regex(NON_BLANK, "blank or padded string");
const uriRef = z.string().min(1);

const ZProp = z.strictObject({ name: token, value: str, ns: z.string().url().or(z.string().regex(/^urn:[a-z0-9][a-z0-9-]*:\S+$/i)).optional(), class: token.optional(), remarks: z.string().optional() });
const props = z.array(ZProp).min(1).optional();

const ZHash = z.strictObject({ algorithm: z.enum(["SHA-224", "SHA-256", "SHA-384", "SHA-512", "SHA3-224", "SHA3-256", "SHA3-384", "SHA3-512"]), value: z.string().regex(/^[0-9a-fA-F]+$/) });

const ZMetadata = z.strictObject({
  title: str,
  published: dateTimeTz.optional(),
  "last-modified": dateTimeTz,
  version: str,
  "oscal-version": z.string().regex(/^1\.2\.\d+$/, "oscal-version must be 1.2.x"),
  props,
  roles: z.array(z.strictObject({ id: token, title: str })).min(1).optional(),
  parties: z.array(z.strictObject({ uuid, type: z.enum(["person", "organization"]), name: str.optional() })).min(1).optional(),
  "responsible-parties": z.array(z.strictObject({ "role-id": token, "party-uuids": z.array(uuid).min(1) })).min(1).optional(),
});

const ZComponent = z.strictObject({
  uuid,
  type: str,
  title: str,
  description: str,
  props,
  status: z.strictObject({ state: z.enum(["under-development", "operational", "disposition", "other"]) }),
});

const ZObservation = z.strictObject({
  uuid,
  title: str.optional(),
  description: str,
  props,
  methods: z.array(z.enum(["EXAMINE", "INTERVIEW", "TEST", "UNKNOWN"])).min(1),
  types: z.array(z.enum(["ssp-statement-issue", "control-objective", "mitigation", "finding", "discovery", "historic"])).min(1).optional(),
  origins: z
    .array(z.strictObject({ actors: z.array(z.strictObject({ type: z.enum(["tool", "assessment-platform", "party"]), "actor-uuid": uuid })).min(1) }))
    .min(1)
    .optional(),
  "relevant-evidence": z.array(z.strictObject({ href: uriRef.optional(), description: str, props })).min(1).optional(),
  collected: dateTimeTz,
  expires: dateTimeTz.optional(),
});

const ZFinding = z.strictObject({
  uuid,
  title: str,
  description: str,
  props,
  target: z.strictObject({
    type: z.enum(["statement-id", "objective-id"]),
    "target-id": token,
    status: z.strictObject({ state: z.enum(["satisfied", "not-satisfied"]), reason: z.enum(["pass", "fail", "other"]).optional() }),
  }),
  "related-observations": z.array(z.strictObject({ "observation-uuid": uuid })).min(1).optional(),
});

const ZResult = z.strictObject({
  uuid,
  title: str,
  description: str,
  start: dateTimeTz,
  end: dateTimeTz.optional(),
  props,
  "local-definitions": z
    .strictObject({
      "assessment-assets": z.strictObject({
        components: z.array(ZComponent).min(1).optional(),
        "assessment-platforms": z.array(z.strictObject({ uuid, title: str.optional(), "uses-components": z.array(z.strictObject({ "component-uuid": uuid })).min(1).optional() })).min(1),
      }),
    })
    .optional(),
  "reviewed-controls": z.strictObject({
    "control-selections": z.array(z.strictObject({ "include-controls": z.array(z.strictObject({ "control-id": token })).min(1).optional(), "include-all": z.strictObject({}).optional() })).min(1),
  }),
  observations: z.array(ZObservation).min(1).optional(),
  findings: z.array(ZFinding).min(1).optional(),
});

export const ZOscalAssessmentResults = z.strictObject({
  "assessment-results": z.strictObject({
    uuid,
    metadata: ZMetadata,
    "import-ap": z.strictObject({ href: uriRef, remarks: z.string().optional() }),
    results: z.array(ZResult).min(1),
    "back-matter": z
      .strictObject({
        resources: z
          .array(
            z.strictObject({
              uuid,
              title: str.optional(),
              description: str.optional(),
              citation: z.strictObject({ text: str }).optional(),
              rlinks: z.array(z.strictObject({ href: uriRef, "media-type": str.optional(), hashes: z.array(ZHash).min(1).optional() })).min(1).optional(),
            }),
          )
          .min(1),
      })
      .optional(),
  }),
});
export type TOscalAssessmentResults = z.infer<typeof ZOscalAssessmentResults>;

/**
 * Structure plus the references the schema cannot check: every related observation exists,
 * every origin actor is a defined component, each finding targets the statement of a reviewed
 * control, the import-ap fragment names a back-matter resource, and no UUID is used twice.
 * Returns the problems found (empty: valid).
 */
export function checkAssessmentResults(doc: unknown, knownControlIds: ReadonlySet<string>): string[] {
  const parsed = ZOscalAssessmentResults.safeParse(doc);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  const ar = parsed.data["assessment-results"];
  const problems: string[] = [];
  const uuids = new Set<string>();
  const seen = (u: string, where: string) => {
    if (uuids.has(u)) problems.push(`${where}: UUID ${u} used twice`);
    uuids.add(u);
  };
  seen(ar.uuid, "assessment-results");
  const resources = new Set((ar["back-matter"]?.resources ?? []).map((r) => r.uuid));
  for (const r of resources) seen(r, "back-matter");
  if (ar["import-ap"].href.startsWith("#") && !resources.has(ar["import-ap"].href.slice(1))) problems.push("import-ap: no back-matter resource with that UUID");
  for (const result of ar.results) {
    seen(result.uuid, "result");
    const reviewed = new Set(result["reviewed-controls"]["control-selections"].flatMap((s) => (s["include-controls"] ?? []).map((c) => c["control-id"])));
    for (const id of reviewed) if (!knownControlIds.has(id)) problems.push(`reviewed-controls: ${id} is not a control of the catalog`);
    const components = new Set((result["local-definitions"]?.["assessment-assets"].components ?? []).map((c) => c.uuid));
    const observations = new Set<string>();
    for (const o of result.observations ?? []) {
      seen(o.uuid, "observation");
      observations.add(o.uuid);
      for (const origin of o.origins ?? []) for (const a of origin.actors) if (a.type === "tool" && !components.has(a["actor-uuid"])) problems.push(`observation ${o.uuid}: unknown tool ${a["actor-uuid"]}`);
    }
    for (const f of result.findings ?? []) {
      seen(f.uuid, "finding");
      const control = f.target["target-id"].replace(/_statement$/, "");
      if (!reviewed.has(control)) problems.push(`finding ${f.uuid}: targets ${f.target["target-id"]}, not a reviewed control's statement`);
      for (const r of f["related-observations"] ?? []) if (!observations.has(r["observation-uuid"])) problems.push(`finding ${f.uuid}: unknown observation ${r["observation-uuid"]}`);
    }
  }
  return problems;
}
