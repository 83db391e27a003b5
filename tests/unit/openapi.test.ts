// The OpenAPI document must describe every REST route there is, with the schemas the use cases
// validate with, and be well-formed.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { OPERATIONS, openApiDocument } from "@/lib/http/openapi";

const API = path.resolve(__dirname, "../../app/api/v1");

function routeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? routeFiles(full) : name === "route.ts" ? [full] : [];
  });
}

/** Every (method, path) the route files export, in OpenAPI's path syntax. */
function routes(): string[] {
  return routeFiles(API).flatMap((file) => {
    const route = path.relative(API, path.dirname(file)).split(path.sep).map((s) => s.replace(/^\[(\w+)\]$/, "{$1}"));
    const apiPath = `/${route.join("/")}`;
    if (apiPath === "/openapi.json") return [];
    const source = readFileSync(file, "utf8");
    return [...source.matchAll(/export (?:const|async function|function) (GET|POST|PATCH|PUT|DELETE)\b/g)].map((m) => `${m[1]!.toLowerCase()} ${apiPath}`);
  });
}

describe("OpenAPI document", () => {
  it("documents every route the API serves, and nothing it does not", () => {
    const documented = OPERATIONS.map((op) => `${op.method} ${op.path}`).sort();
    expect(documented).toEqual(routes().sort());
  });

  it("is an OpenAPI 3.1 document with bodies, parameters and answers from the zod schemas", () => {
    const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> };
    expect(doc.openapi).toBe("3.1.0");
    const revoke = doc.paths["/handles/{accessor}/revoke"]!.post as { requestBody: { content: { "application/json": { schema: { properties: Record<string, unknown>; required: string[] } } } } };
    const body = revoke.requestBody.content["application/json"].schema;
    expect(Object.keys(body.properties)).toEqual(["reason"]); // the accessor comes from the path
    expect(body.required).toEqual(["reason"]);
    const list = doc.paths["/handles"]!.get as { parameters: Array<{ name: string; in: string; schema: { type?: string; items?: { enum?: string[] } } }> };
    const status = list.parameters.find((p) => p.name === "status")!;
    expect(status.in).toBe("query");
    expect(JSON.stringify(status.schema)).toContain("input_required");
    expect(list.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(["owner", "server", "preset", "cursor", "limit"]));
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc); // plain JSON, nothing unrepresentable left
  });
});
