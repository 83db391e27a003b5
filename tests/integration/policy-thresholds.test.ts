// Changing the compliance thresholds of the policy against the real database: who may, what input
// is refused (and which field is named), that the version and its audit event commit together,
// that no handle is touched, and that a report generated afterwards grades with the new values.
// The policy is a database-wide fact, so this file has a database of its own.
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { NextRequest } from "next/server";
import { beforeAll, describe, expect, it } from "vitest";
import { PUT as putThresholds } from "@/app/api/v1/policy/thresholds/route";
import { createApiKey } from "@/lib/api-keys/create-api-key";
import { systemActor } from "@/lib/auth/actor";
import { CONTROLS_BY_ID } from "@/lib/compliance/controls";
import { runReportJob } from "@/lib/compliance/generate-report";
import { getReport } from "@/lib/compliance/get-report";
import { requestReport } from "@/lib/compliance/request-report";
import { thresholdFor } from "@/lib/compliance/thresholds";
import { getPrisma } from "@/lib/db/client";
import { changeComplianceThresholds } from "@/lib/policy/change-compliance-thresholds";
import { changePolicy } from "@/lib/policy/change-policy";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { getComplianceThresholds } from "@/lib/policy/get-compliance-thresholds";
import { getCurrentPolicy } from "@/lib/policy/get-current-policy";
import { actorFor, createPrincipal, userActor } from "../factories/principals";
import { insertHandle } from "../factories/handles";
import { auditEventsOfRequest } from "./support/audit";
import { pinCheckpoint } from "./support/compliance-fixtures";
import { setUpEnv, setUpTestSecrets } from "./support/env";
import { expectAppError, issuePaths } from "./support/errors";
import { setUpOwnDatabase } from "./support/own-database";
import { FORCED_AUDIT_FAILURE, withFailingAuditInserts } from "./support/triggers";

setUpOwnDatabase();
setUpTestSecrets();
setUpEnv(() => ({ TETHER_AUDIT_SIGNING_KEY: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString() }));

beforeAll(async () => {
  await ensureDefaultPolicy(getPrisma(), systemActor("test", `thresholds-test-${randomUUID()}`));
});

async function createAdmin() {
  return actorFor(await createPrincipal(getPrisma(), { role: "admin" }));
}

/** The transaction that last wrote a row (xmin): equal values mean one commit wrote both. */
async function writerOf(table: "handle_policy" | "audit_event", column: "version" | "id", value: string | number): Promise<string> {
  const cast = column === "version" ? "integer" : "uuid";
  const rows = await getPrisma().$queryRawUnsafe<Array<{ xmin: string }>>(`SELECT xmin::text AS xmin FROM ${table} WHERE ${column} = $1::${cast}`, String(value));
  if (rows.length !== 1) throw new Error(`no ${table} row ${value}`);
  return rows[0]!.xmin;
}

/** A target that differs from whatever H-03 (a ratio, higher is better) has now. */
async function freshH03() {
  const current = thresholdFor(CONTROLS_BY_ID.get("H-03")!, (await getCurrentPolicy()).thresholds)!;
  const target = current.target === 0.9 ? 0.85 : 0.9;
  return { target, partial: target - 0.1 };
}

describe("changeComplianceThresholds", () => {
  it("inserts the next version with the same handle settings and its event (before/after per control) in one commit", async () => {
    const before = await getCurrentPolicy();
    const actor = await createAdmin();
    const h03 = await freshH03();

    const result = await changeComplianceThresholds({
      actor,
      data: { thresholds: { "H-03": h03, "H-07": { target: 30_000, partial: 120_000 }, "H-02": { target: 0, partial: null } }, reason: "  tighter for the audit  " },
    });

    // H-02 was given with the value it already has (the default): not a change.
    expect(result.version).toBe(before.version + 1);
    expect(Object.keys(result.changes).sort()).toEqual(["H-03", "H-07"]);
    expect(result.changes["H-07"]).toEqual({ from: { target: 60_000, partial: null, source: "default" }, to: { target: 30_000, partial: 120_000 } });

    const after = await getCurrentPolicy();
    const { thresholds: _b, version: _bv, reason: _br, createdAt: _bc, createdById: _bby, ...settingsBefore } = before;
    expect(after).toMatchObject({ ...settingsBefore, version: before.version + 1, reason: "tighter for the audit", createdById: actor.id });
    expect(thresholdFor(CONTROLS_BY_ID.get("H-03")!, after.thresholds)).toEqual({ ...h03, source: "policy" });
    expect(thresholdFor(CONTROLS_BY_ID.get("H-07")!, after.thresholds)).toEqual({ target: 30_000, partial: 120_000, source: "policy" });
    expect(thresholdFor(CONTROLS_BY_ID.get("H-02")!, after.thresholds)).toMatchObject({ source: "default" });
    // The previous version is kept as it was.
    expect((await getPrisma().handlePolicy.findUniqueOrThrow({ where: { version: before.version } })).thresholds).toEqual(before.thresholds);

    const events = await auditEventsOfRequest(getPrisma(), actor.request.requestId);
    expect(events.map((e) => e.action)).toEqual(["policy.thresholds_changed"]);
    expect(events[0]).toMatchObject({ actorId: actor.id, targetType: "policy", targetId: String(after.version), reason: "tighter for the audit" });
    expect(events[0]!.payload).toEqual({ version: after.version, changes: result.changes });
    expect(await writerOf("audit_event", "id", events[0]!.id)).toBe(await writerOf("handle_policy", "version", after.version));

    // The page's view shows the value, where it comes from, and the change in the history.
    const view = (await getComplianceThresholds({ actor }))!;
    expect(view.version).toBe(after.version);
    expect(view.controls.find((c) => c.id === "H-07")).toMatchObject({ metric: "duration_ms", higherIsBetter: false, defaultThreshold: { target: 60_000 }, current: { target: 30_000, source: "policy" } });
    expect(view.changesByVersion[after.version]!.map((c) => c.id).sort()).toEqual(["H-03", "H-07"]);
  });

  it("revokes no handle and keeps the thresholds when the handle settings change afterwards", async () => {
    const server = await getPrisma().mcpServer.create({ data: { slug: `srv-${randomUUID().slice(0, 8)}`, name: "s", url: "http://127.0.0.1:9/s", audience: `https://tether.test/mcp/${randomUUID()}` } });
    const agent = await createPrincipal(getPrisma(), { kind: "service", role: "viewer", email: null });
    const before = await getCurrentPolicy();
    const handle = await insertHandle(getPrisma(), { serverId: server.id, principalId: agent.id, policyVersion: before.version, createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000), status: "working" });

    const admin = await createAdmin();
    const { version } = await changeComplianceThresholds({ actor: admin, data: { thresholds: { "H-13": { target: 400, partial: 200 } }, reason: "longer retention" } });
    const row = await getPrisma().handle.findUniqueOrThrow({ where: { id: handle.id } });
    expect(row).toMatchObject({ revokedAt: null, expiresAt: handle.expiresAt });
    expect((await auditEventsOfRequest(getPrisma(), admin.request.requestId)).map((e) => e.action)).toEqual(["policy.thresholds_changed"]);

    const current = await getCurrentPolicy();
    await changePolicy({ actor: admin, data: { ...current, maxLiveHandlesPerPrincipal: current.maxLiveHandlesPerPrincipal + 1, invalidateOlderVersions: false, reason: "more" } });
    const next = await getCurrentPolicy();
    expect(next.version).toBe(version + 1);
    expect(thresholdFor(CONTROLS_BY_ID.get("H-13")!, next.thresholds)).toEqual({ target: 400, partial: 200, source: "policy" });
    await getPrisma().handle.update({ where: { id: handle.id }, data: { status: "completed" } });
  });

  it("refuses every role but admin (403) and writes nothing", async () => {
    const before = await getCurrentPolicy();
    for (const role of ["reviewer", "support", "auditor", "viewer"] as const) {
      await expectAppError(changeComplianceThresholds({ actor: userActor(role), data: { thresholds: { "H-03": await freshH03() }, reason: "not mine" } }), "FORBIDDEN");
      await expectAppError(getComplianceThresholds({ actor: userActor(role) }), "FORBIDDEN");
    }
    expect((await getCurrentPolicy()).version).toBe(before.version);
  });

  it("names each invalid field (422): ranges by unit, partial on the failing side of the target, the reason", async () => {
    const admin = await createAdmin();
    const before = await getCurrentPolicy();
    const error = await expectAppError(
      changeComplianceThresholds({
        actor: admin,
        data: {
          thresholds: {
            "H-01": { target: 95, partial: 90 }, // a ratio is a share, 0–1
            "H-03": { target: 0.9, partial: 0.95 }, // higher is better: partial must be below the target
            "H-02": { target: 1.5, partial: null }, // a count is whole
            "H-07": { target: 60_000, partial: 30_000 }, // lower is better: partial must be above the target
            "H-08": { target: -1, partial: null },
            "H-13": { target: 0, partial: null }, // retention of at least a day
            "H-16": { target: "zero", partial: null },
            "H-17": { target: 0 }, // partial must be given (null for none)
          },
          reason: "x",
        },
      }),
      "INVALID_INPUT",
    );
    expect(issuePaths(error)).toEqual([
      "reason",
      "thresholds.H-01.partial",
      "thresholds.H-01.target",
      "thresholds.H-02.target",
      "thresholds.H-03.partial",
      "thresholds.H-07.partial",
      "thresholds.H-08.target",
      "thresholds.H-13.target",
      "thresholds.H-16.target",
      "thresholds.H-17.partial",
    ]);
    const messages = Object.fromEntries(error.issues!.map((i) => [i.path, i.message]));
    expect(messages["thresholds.H-01.target"]).toMatch(/share from 0 to 1/);
    expect(messages["thresholds.H-03.partial"]).toMatch(/below the target/);
    expect(messages["thresholds.H-07.partial"]).toMatch(/above the target/);
    expect(messages["thresholds.H-13.target"]).toMatch(/at least 1 day/);
    expect((await getCurrentPolicy()).version).toBe(before.version);
  });

  it("refuses an unknown or unmeasured control by name (422), and an empty change", async () => {
    const admin = await createAdmin();
    const unknown = await expectAppError(
      changeComplianceThresholds({ actor: admin, data: { thresholds: { "H-99": { target: 1, partial: null }, "H-06": { target: 1, partial: null } }, reason: "typo" } }),
      "INVALID_INPUT",
    );
    expect(issuePaths(unknown)).toEqual(["thresholds.H-06", "thresholds.H-99"]);
    expect(unknown.issues!.find((i) => i.path === "thresholds.H-99")!.message).toMatch(/^H-99 is not a measured control/);
    const empty = await expectAppError(changeComplianceThresholds({ actor: admin, data: { thresholds: {}, reason: "nothing" } }), "INVALID_INPUT");
    expect(issuePaths(empty)).toEqual(["thresholds"]);
  });

  it("is INVALID_STATE when every value given is already in force", async () => {
    const admin = await createAdmin();
    const current = await getCurrentPolicy();
    const h07 = thresholdFor(CONTROLS_BY_ID.get("H-07")!, current.thresholds)!;
    await expectAppError(
      changeComplianceThresholds({ actor: admin, data: { thresholds: { "H-07": { target: h07.target, partial: h07.partial } }, reason: "same again" } }),
      "INVALID_STATE",
    );
    expect((await getCurrentPolicy()).version).toBe(current.version);
    expect(await auditEventsOfRequest(getPrisma(), admin.request.requestId)).toEqual([]);
  });

  it("rolls the version back when its audit event cannot be written", async () => {
    const before = await getCurrentPolicy();
    const reason = `audit failure ${randomUUID()}`;
    await expect(
      withFailingAuditInserts(getPrisma(), { reason }, async () =>
        changeComplianceThresholds({ actor: await createAdmin(), data: { thresholds: { "H-03": await freshH03() }, reason } }),
      ),
    ).rejects.toThrow(FORCED_AUDIT_FAILURE);
    expect((await getCurrentPolicy()).version).toBe(before.version);
  });
});

describe("a report generated after a threshold change", () => {
  it("grades with the new threshold and names the policy as its source", async () => {
    const admin = await createAdmin();
    const { version } = await changeComplianceThresholds({ actor: admin, data: { thresholds: { "H-16": { target: 2, partial: 5 } }, reason: "allow a little" } });
    // A preset period ends at the last whole second: let it pass the new version's creation.
    const created = (await getCurrentPolicy()).createdAt.getTime();
    while (Math.floor(Date.now() / 1000) * 1000 <= created) await new Promise((r) => setTimeout(r, 50));
    await pinCheckpoint();

    const auditor = userActor("auditor");
    const queued = await requestReport({ actor: auditor, data: { preset: "last_7_days" } });
    for (let i = 0; i < 10 && (await runReportJob())?.reportId !== queued.id; i++);
    const report = await getReport({ actor: auditor, id: queued.id });
    expect(report.status).toBe("completed");
    expect(report.content!.policy).toEqual({ version });
    expect(report.content!.controls.find((c) => c.id === "H-16")!.threshold).toEqual({ target: 2, partial: 5, source: "policy" });
    expect(report.content!.controls.find((c) => c.id === "H-02")!.threshold).toMatchObject({ source: "default" });
  });
});

describe("PUT /api/v1/policy/thresholds with an API key", () => {
  const noParams = { params: Promise.resolve({}) } as { params: Promise<Record<string, never>> };

  async function keyFor(role: "admin" | "auditor"): Promise<string> {
    const account = await createPrincipal(getPrisma(), { kind: "service", email: null, role });
    return (await createApiKey({ actor: userActor("admin"), data: { principalId: account.id, name: "thresholds test" } })).key;
  }

  function put(key: string, body: unknown) {
    const headers = new Headers({ authorization: `Bearer ${key}`, "content-type": "application/json" });
    return putThresholds(new NextRequest("http://tether.test/api/v1/policy/thresholds", { method: "PUT", headers, body: JSON.stringify(body) }), noParams);
  }

  it("saves for an admin (200), refuses an auditor (403), names bad fields and unknown controls (422)", async () => {
    const admin = await keyFor("admin");
    const before = await getCurrentPolicy();
    const ok = await put(admin, { thresholds: { "H-20": { target: 600_000, partial: 1_800_000 } }, reason: "faster containment" });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ version: before.version + 1, changes: { "H-20": { from: { target: 900_000, partial: null, source: "default" }, to: { target: 600_000, partial: 1_800_000 } } } });

    const denied = await put(await keyFor("auditor"), { thresholds: { "H-20": { target: 300_000, partial: null } }, reason: "not mine" });
    expect(denied.status).toBe(403);

    const bad = await put(admin, { thresholds: { "H-20": { target: 600_000, partial: 1 }, "H-42": { target: 1, partial: null } }, reason: "bad" });
    expect(bad.status).toBe(422);
    const body = (await bad.json()) as { error: { code: string; issues: Array<{ path: string; message: string }> } };
    expect(body.error.code).toBe("INVALID_INPUT");
    expect(body.error.issues.map((i) => i.path).sort()).toEqual(["thresholds.H-20.partial", "thresholds.H-42"]);
    expect(body.error.issues.find((i) => i.path === "thresholds.H-42")!.message).toContain("H-42");

    const same = await put(admin, { thresholds: { "H-20": { target: 600_000, partial: 1_800_000 } }, reason: "again" });
    expect(same.status).toBe(409);
    expect((await getCurrentPolicy()).version).toBe(before.version + 1);
  });
});
