// The OpenAPI 3.1 document of the REST API (/api/v1/openapi.json), generated from the same zod
// schemas the use cases validate with, so the document cannot drift from what the API accepts.
// Each operation names the schema of its query, body and answer; a route file without an entry
// here fails tests/unit/openapi.test.ts.
import { z } from "zod";
import { ZApiKeyDto, ZCreateApiKeyInput, ZCreateServiceAccountInput, ZRevokeApiKeyInput, ZServiceAccountDto } from "@/lib/api-keys/schemas";
import { ZAuditExportQuery } from "@/lib/audit/export-audit-events";
import { ZBulkActionDto, ZBulkItemsPage, ZBulkItemsQuery, ZBulkList, ZBulkListQuery, ZBulkPreview, ZCreateBulkInput, ZPreviewBulkInput } from "@/lib/bulk/schemas";
import { HANDLE_FILTER_FIELDS } from "@/lib/handles/handle-filter-schema";
import { ZCancelHandleInput, ZHandleDetailDto, ZHandleTimelineDto, ZHandleTimelineQuery } from "@/lib/handles/handle-detail-schemas";
import { ZHandleListPage } from "@/lib/handles/handle-list-dto";
import { MEASURED_CONTROLS } from "@/lib/policy/measured-controls";
import { ZComplianceThresholdsChangeResult, complianceThresholdsInputSchema } from "@/lib/policy/schemas";
import { ZRevokeHandleInput } from "@/lib/handles/schemas";
import { ZExportFormat, ZReportDetail, ZReportListItem, ZRequestReportInput } from "@/lib/compliance/schemas";
import { ZSavedViewDto, ZSaveViewInput } from "@/lib/handles/saved-view-schemas";
import {
  ZProbeResult,
  ZProbeServerInput,
  ZRegisterServerInput,
  ZRemoveServerInput,
  ZServerDto,
  ZSetServerEnabledInput,
  ZSetServerPollingInput,
  ZUpdateServerInput,
} from "@/lib/servers/schemas";
import { TETHER_VERSION } from "@/lib/version";

type TSchema = z.ZodType;
type TJsonSchema = Record<string, unknown>;

export type TOperation = {
  method: "get" | "post" | "put" | "patch" | "delete";
  path: string;
  summary: string;
  /** The permission the use case checks (documentation; the check itself is in the use case). */
  permission: string;
  query?: Record<string, TSchema>;
  /** The body schema; `omit` names properties that come from the path instead. */
  body?: { schema: TSchema; omit?: string[]; optional?: boolean };
  response?: TSchema;
  /** A response that is not JSON (exports). */
  produces?: string[];
  status?: number;
};

const list = <T extends TSchema>(item: T) => z.object({ data: z.array(item) });
const reasonBody = z.object({ reason: z.string().min(3).max(500) });

export const OPERATIONS: TOperation[] = [
  { method: "get", path: "/handles", summary: "One keyset page of the handle inventory, with the filters of the /handles page.", permission: "handles.read", query: HANDLE_FILTER_FIELDS, response: ZHandleListPage },
  { method: "get", path: "/handles/export", summary: "The handles matching a filter as CSV (audited as handles.exported).", permission: "handles.read", query: HANDLE_FILTER_FIELDS, produces: ["text/csv"] },
  { method: "get", path: "/handles/{accessor}", summary: "One handle: binding, TTLs, live status, cancel and revocation state.", permission: "handles.read", response: ZHandleDetailDto },
  { method: "get", path: "/handles/{accessor}/timeline", summary: "The handle's audit events, oldest first, paged.", permission: "handles.read", query: objectShape(ZHandleTimelineQuery), response: ZHandleTimelineDto },
  { method: "post", path: "/handles/{accessor}/revoke", summary: "Revoke the handle; the gateway refuses it from the very next call. 409 when already revoked or expired.", permission: "handles.revoke", body: { schema: ZRevokeHandleInput, omit: ["accessor"] }, response: ZHandleDetailDto },
  { method: "post", path: "/handles/{accessor}/cancel", summary: "Cancel the task upstream (tasks/cancel with the server's credentials), record the outcome, revoke the handle. 409 in a terminal or revoked state.", permission: "handles.cancel", body: { schema: ZCancelHandleInput, omit: ["accessor"] }, response: ZHandleDetailDto },
  { method: "get", path: "/handle-views", summary: "The caller's saved inventory views.", permission: "handles.read", response: list(ZSavedViewDto) },
  { method: "post", path: "/handle-views", summary: "Save (or replace by name) an inventory view for the caller.", permission: "handles.read", body: { schema: ZSaveViewInput }, response: ZSavedViewDto, status: 201 },
  { method: "delete", path: "/handle-views/{id}", summary: "Delete one of the caller's saved views (another user's is a 404).", permission: "handles.read" },
  { method: "get", path: "/servers", summary: "Registered upstream MCP servers with health, capabilities and sync statistics.", permission: "servers.read", response: list(ZServerDto) },
  { method: "post", path: "/servers", summary: "Register a server: connects, runs initialize, records what it declares (saved disabled only with force when the check fails).", permission: "servers.manage", body: { schema: ZRegisterServerInput }, response: z.object({ server: ZServerDto, check: ZProbeResult }), status: 201 },
  { method: "post", path: "/servers/probe", summary: "A dry run of the connection check, saving nothing.", permission: "servers.manage", body: { schema: ZProbeServerInput }, response: ZProbeResult },
  { method: "get", path: "/servers/{id}", summary: "One server.", permission: "servers.read", response: ZServerDto },
  { method: "patch", path: "/servers/{id}", summary: "Edit a server (credentials are replaced, never shown).", permission: "servers.manage", body: { schema: ZUpdateServerInput, omit: ["serverId"] }, response: z.object({ server: ZServerDto, check: ZProbeResult.nullable() }) },
  { method: "delete", path: "/servers/{id}", summary: "Remove a server; with live handles, say whether to revoke them or keep them as orphans.", permission: "servers.manage", body: { schema: ZRemoveServerInput, omit: ["serverId"] } },
  { method: "post", path: "/servers/{id}/disable", summary: "Disable a server (reason required).", permission: "servers.manage", body: { schema: ZSetServerEnabledInput, omit: ["serverId", "enabled", "force"] }, response: ZServerDto },
  { method: "post", path: "/servers/{id}/enable", summary: "Enable a server (checks the connection again; force to enable anyway).", permission: "servers.manage", body: { schema: ZSetServerEnabledInput, omit: ["serverId", "enabled"], optional: true }, response: ZServerDto },
  { method: "post", path: "/servers/{id}/polling", summary: "Pause or resume status polling for a server (audited, reason required).", permission: "servers.manage", body: { schema: ZSetServerPollingInput, omit: ["serverId"] }, response: ZServerDto },
  { method: "get", path: "/service-accounts", summary: "Agent service accounts.", permission: "keys.manage", response: list(ZServiceAccountDto) },
  { method: "post", path: "/service-accounts", summary: "Create an agent service account.", permission: "keys.manage", body: { schema: ZCreateServiceAccountInput }, response: ZServiceAccountDto, status: 201 },
  { method: "get", path: "/api-keys", summary: "API keys (prefix, expiry, last use; never the key).", permission: "keys.manage", query: { principalId: z.string().uuid().optional() }, response: list(ZApiKeyDto) },
  { method: "post", path: "/api-keys", summary: "Create an API key; the key is in this answer only.", permission: "keys.manage", body: { schema: ZCreateApiKeyInput }, response: z.object({ key: z.string(), apiKey: ZApiKeyDto }), status: 201 },
  { method: "post", path: "/api-keys/{id}/revoke", summary: "Revoke an API key and the live handles minted with it.", permission: "keys.manage", body: { schema: ZRevokeApiKeyInput, omit: ["keyId"] }, response: ZApiKeyDto },
  { method: "post", path: "/bulk/preview", summary: "The exact set a bulk revoke or cancel would act on (chosen accessors, or every handle matching an inventory filter): count, fingerprint, sample, breakdown by server and owner.", permission: "handles.bulk_revoke (cancel: also handles.cancel)", body: { schema: ZPreviewBulkInput }, response: ZBulkPreview },
  { method: "post", path: "/bulk", summary: "Request a bulk revoke or cancel of exactly the previewed set (expectedCount, fingerprint, asOf from the preview). 409 with error.preview when the set changed; above the approval threshold it waits for a second reviewer.", permission: "handles.bulk_revoke (cancel: also handles.cancel)", body: { schema: ZCreateBulkInput }, response: ZBulkActionDto, status: 201 },
  { method: "get", path: "/bulk", summary: "Bulk actions, newest first.", permission: "handles.bulk_revoke", query: objectShape(ZBulkListQuery), response: ZBulkList },
  { method: "get", path: "/bulk/{id}", summary: "One bulk action: status, progress, items counted by result.", permission: "handles.bulk_revoke", response: ZBulkActionDto },
  { method: "get", path: "/bulk/{id}/items", summary: "The per-handle results in processing order, paged by ordinal.", permission: "handles.bulk_revoke", query: withoutKeys(objectShape(ZBulkItemsQuery), ["id"]), response: ZBulkItemsPage },
  { method: "post", path: "/bulk/{id}/approve", summary: "The second reviewer's approval (two-person rule): the requester gets 403; an action not awaiting approval 409.", permission: "handles.bulk_revoke", response: ZBulkActionDto },
  { method: "post", path: "/bulk/{id}/reject", summary: "Another reviewer turns down a bulk action awaiting approval (reason required).", permission: "handles.bulk_revoke", body: { schema: reasonBody }, response: ZBulkActionDto },
  { method: "post", path: "/bulk/{id}/cancel", summary: "Stop a bulk action that has not finished (reason required); a running one stops at its next chunk.", permission: "handles.bulk_revoke", body: { schema: reasonBody }, response: ZBulkActionDto },
  { method: "get", path: "/reports", summary: "Compliance reports, newest first, with who requested each and its progress or outcome.", permission: "reports.read", response: list(ZReportListItem) },
  { method: "post", path: "/reports", summary: "Queue a compliance report for a period (a preset, a quarter or start/end), or regenerate one; 202 with its Location.", permission: "reports.generate", body: { schema: ZRequestReportInput }, response: ZReportListItem, status: 202 },
  { method: "get", path: "/reports/{id}", summary: "A report's status, progress and summary; with ?format=json|csv|oscal|html the generated report itself (audited as report.exported; 409 while generating).", permission: "reports.read", query: { format: ZExportFormat.optional() }, response: ZReportDetail },
  { method: "get", path: "/audit/export", summary: "The audit trail as NDJSON (a verifiable bundle) or CSV (audited).", permission: "audit.export", query: objectShape(ZAuditExportQuery), produces: ["application/x-ndjson", "text/csv"] },
  { method: "get", path: "/audit/public-key", summary: "The audit checkpoint signing key (PEM), for offline verification.", permission: "audit.read", produces: ["application/x-pem-file"] },
  { method: "put", path: "/policy/thresholds", summary: "Set compliance thresholds ({controlId: {target, partial}}, reason required) as a new policy version with the same handle settings; controls not given carry over. 409 when nothing changes; revokes no handle.", permission: "policy.manage", body: { schema: complianceThresholdsInputSchema(MEASURED_CONTROLS) }, response: ZComplianceThresholdsChangeResult },
  { method: "get", path: "/audit/verify", summary: "Verify the whole hash chain and every signed checkpoint now.", permission: "audit.read" },
];

function withoutKeys(shape: Record<string, TSchema>, keys: string[]): Record<string, TSchema> {
  return Object.fromEntries(Object.entries(shape).filter(([key]) => !keys.includes(key)));
}

/** The shape of an object schema (possibly refined), for query parameters. */
function objectShape(schema: TSchema): Record<string, TSchema> {
  const def = (schema as unknown as { _zod: { def: { shape?: Record<string, TSchema>; in?: TSchema } } })._zod.def;
  if (def.shape) return def.shape;
  if (def.in) return objectShape(def.in);
  throw new Error("objectShape: not an object schema");
}

function toJson(schema: TSchema, io: "input" | "output"): TJsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as TJsonSchema;
  delete json.$schema;
  return json;
}

function withoutProperties(json: TJsonSchema, names: string[]): TJsonSchema {
  const properties = { ...(json.properties as Record<string, unknown> | undefined) };
  for (const name of names) delete properties[name];
  const required = Array.isArray(json.required) ? (json.required as string[]).filter((r) => !names.includes(r)) : undefined;
  return { ...json, properties, ...(required ? { required } : {}) };
}

const ERROR = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: { type: "string", examples: ["BAD_REQUEST", "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "INVALID_STATE", "VALIDATION_FAILED"] },
        message: { type: "string" },
        issues: { type: "array", items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } } },
      },
    },
  },
};

function operationObject(op: TOperation): Record<string, unknown> {
  const pathParams = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const parameters = [
    ...pathParams.map((name) => ({ name, in: "path", required: true, schema: { type: "string" } })),
    ...Object.entries(op.query ?? {}).map(([name, schema]) => {
      // Query parameters arrive as strings (repeat a key for several values); documented by what they mean.
      const json = toJson(schema, "output");
      return { name, in: "query", required: !schema.safeParse(undefined).success, schema: json, ...(json.type === "array" ? { style: "form", explode: true } : {}) };
    }),
  ];
  const status = String(op.status ?? 200);
  const responses: Record<string, unknown> = {
    [status]: op.produces
      ? { description: "OK", content: Object.fromEntries(op.produces.map((type) => [type, { schema: { type: "string" } }])) }
      : op.response
        ? { description: "OK", content: { "application/json": { schema: toJson(op.response, "output") } } }
        : { description: "OK" },
  };
  for (const [code, description] of [
    ["400", "A malformed parameter"],
    ["401", "No valid console session or API key"],
    ["403", "The caller's role lacks the permission, or a cross-site request"],
    ["404", "Not found, or not visible to the caller"],
    ["409", "The resource is in a state that does not allow this"],
    ["415", "The body is not JSON"],
    ["422", "The body is invalid (issues name each field)"],
  ] as const) {
    responses[code] = { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
  }
  return {
    summary: op.summary,
    description: `Permission: \`${op.permission}\` (checked in the use case).`,
    operationId: `${op.method}${op.path.replace(/\{(\w+)\}/g, "By_$1").replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
    ...(parameters.length ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: !op.body.optional,
            content: { "application/json": { schema: withoutProperties(toJson(op.body.schema, "input"), op.body.omit ?? []) } },
          },
        }
      : {}),
    responses,
    security: [{ consoleSession: [] }, { apiKey: [] }],
  };
}

/** The whole document. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operationObject(op);
  return {
    openapi: "3.1.0",
    info: {
      title: "Tether REST API",
      version: TETHER_VERSION,
      description:
        "Governance of MCP task handles. Every operation is authorised in its use case; a row the caller may not see is 404, a right it lacks is 403. Errors share one body: {error: {code, message, issues?}}.",
    },
    servers: [{ url: "/api/v1" }],
    paths,
    components: {
      schemas: { Error: ERROR },
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "An API key (tth_…) of a principal whose role has the permission." },
        consoleSession: { type: "apiKey", in: "cookie", name: "next-auth.session-token", description: "The console's sign-in session cookie (`__Secure-` prefixed over HTTPS); state changes only from the console's own origin." },
      },
    },
  };
}
