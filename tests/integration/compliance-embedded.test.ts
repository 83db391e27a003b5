// A report on the embedded database of `npm start` (PGlite: Postgres compiled to WebAssembly, one
// backend behind one pooled connection): the migration's immutability trigger, the metric queries
// and the report job run there as on a server, and the report completes and exports.
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import { currentSubcategories } from "@/lib/compliance/catalog/csf-catalog";
import { exportReport } from "@/lib/compliance/export-report";
import { runReportJob } from "@/lib/compliance/generate-report";
import { getReport } from "@/lib/compliance/get-report";
import { checkAssessmentResults } from "@/lib/compliance/oscal-structure";
import { requestReport } from "@/lib/compliance/request-report";
import { getPool, getPrisma } from "@/lib/db/client";
import { applyMigrations } from "@/lib/db/schema-engine";
import { startEmbeddedPostgres, type TEmbeddedPostgres } from "@/lib/embedded/start-embedded-postgres";
import { resetEnvCache } from "@/lib/env";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { userActor } from "../factories/principals";
import { MIN, makeAgent, makeEvent, makeHandle, makeServer, makeSession } from "./support/compliance-fixtures";
import { setUpEnv } from "./support/env";

setUpEnv(() => ({ TETHER_AUDIT_SIGNING_KEY: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString() }));

let dir: string;
let embedded: TEmbeddedPostgres;
const previous = { url: process.env.DATABASE_URL, embedded: process.env.TETHER_EMBEDDED };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "tether-report-"));
  embedded = await startEmbeddedPostgres(dir);
  await applyMigrations({ connectionString: embedded.connectionString });
  Object.assign(process.env, { DATABASE_URL: embedded.connectionString, TETHER_EMBEDDED: "true" });
  resetEnvCache();
  await ensureDefaultPolicy(getPrisma(), systemActor("test", "report-embedded"));
}, 180_000);

afterAll(async () => {
  await getPrisma().$disconnect();
  await getPool().end().catch(() => undefined);
  await embedded?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  process.env.DATABASE_URL = previous.url;
  if (previous.embedded === undefined) delete process.env.TETHER_EMBEDDED;
  else process.env.TETHER_EMBEDDED = previous.embedded;
  resetEnvCache();
});

it("generates, stores immutably and exports a report", async () => {
  const agent = await makeAgent();
  const server = await makeServer();
  const session = await makeSession(agent.id, server.id);
  const createdAt = new Date(Date.now() - 10 * MIN);
  const h = await makeHandle({ principalId: agent.id, serverId: server.id, sessionId: session.id, createdAt, ttlMs: 3 * 60 * MIN });
  await makeEvent({ action: "handle.issued", occurredAt: createdAt, actorId: agent.id, target: { type: "handle", id: h.id }, payload: { accessor: h.accessor } });
  const auditor = userActor("auditor");
  const { id } = await requestReport({ actor: auditor, data: { preset: "last_7_days" } });
  expect(await runReportJob()).toEqual({ reportId: id, status: "completed" });
  const report = await getReport({ actor: auditor, id, audit: false });
  expect(report.content!.controls.find((c) => c.id === "H-03")!.status).toBe("fail");
  const h11 = report.content!.controls.find((c) => c.id === "H-11")!;
  expect(h11.status, `${h11.reason} ${JSON.stringify(h11.details)}`).toBe("pass");
  const oscal = await exportReport({ actor: auditor, id, format: "oscal", baseUrl: "http://127.0.0.1:3000" });
  expect(checkAssessmentResults(JSON.parse(oscal.body), new Set(currentSubcategories().map((s) => s.id)))).toEqual([]);
  await expect(getPool().query("UPDATE compliance_report SET period_label = 'x' WHERE id = $1", [id])).rejects.toThrow(/immutable/);
}, 120_000);
