// Changing the handle policy against the real database: who may change it, what input is refused,
// that a version and its audit event commit together, and what a tightening does to live handles.
// The policy and the set of live handles are database-wide facts, so this file has a database of
// its own; each test retires the live handles it made (a plain UPDATE, no use case) afterwards.
import { randomUUID } from "node:crypto";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { changePolicy } from "@/lib/policy/change-policy";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { getCurrentPolicy } from "@/lib/policy/get-current-policy";
import { listPolicyVersions } from "@/lib/policy/list-policy-versions";
import { previewPolicyChange } from "@/lib/policy/preview-policy-change";
import type { TPolicy } from "@/lib/policy/schemas";
import { actorFor, createPrincipal, userActor } from "../factories/principals";
import { auditEventsOfRequest } from "./support/audit";
import { expectAppError, issuePaths } from "./support/errors";
import { setUpOwnDatabase } from "./support/own-database";
import { FORCED_AUDIT_FAILURE, withFailingAuditInserts } from "./support/triggers";
import { insertHandle } from "../factories/handles";

setUpOwnDatabase();

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DENIED_ROLES = ["reviewer", "support", "auditor", "viewer"] as const;

beforeAll(async () => {
  await ensureDefaultPolicy(getPrisma(), systemActor("test", `policy-test-${randomUUID()}`));
});

function liveHandleCount() {
  return getPrisma().handle.count({ where: { revokedAt: null, expiresAt: { gt: new Date() }, status: { in: ["working", "input_required"] } } });
}

beforeEach(async () => {
  expect(await liveHandleCount(), "a previous test left a live handle behind").toBe(0);
});

afterEach(async () => {
  await getPrisma().handle.updateMany({ where: { status: { in: ["working", "input_required"] } }, data: { status: "completed" } });
});

async function createAdmin() {
  return actorFor(await createPrincipal(getPrisma(), { role: "admin" }));
}

/** The submitted form of a policy: the same settings, nothing invalidated, a valid reason. */
function inputFrom(policy: TPolicy, overrides: Record<string, unknown> = {}) {
  return {
    maxTtlMs: policy.maxTtlMs,
    defaultTtlMs: policy.defaultTtlMs,
    maxLiveHandlesPerPrincipal: policy.maxLiveHandlesPerPrincipal,
    requireSessionBinding: policy.requireSessionBinding,
    allowedOperations: policy.allowedOperations,
    pollAuditLevel: policy.pollAuditLevel,
    invalidateOlderVersions: false,
    reason: "routine review",
    ...overrides,
  };
}

/** Puts a known maximum and default TTL in force, so a test can lower it from there. */
async function setTtls(maxTtlMs: number, defaultTtlMs: number) {
  const current = await getCurrentPolicy();
  if (current.maxTtlMs === maxTtlMs && current.defaultTtlMs === defaultTtlMs) return current;
  await changePolicy({ actor: await createAdmin(), data: inputFrom(current, { maxTtlMs, defaultTtlMs, reason: "test baseline" }) });
  return getCurrentPolicy();
}

async function createServer() {
  const slug = `srv-${randomUUID().slice(0, 8)}`;
  return getPrisma().mcpServer.create({ data: { slug, name: slug, url: `http://127.0.0.1:9/${slug}`, audience: `https://tether.test/mcp/${slug}` } });
}

type THandleSpec = {
  policyVersion: number;
  /** How long ago the handle was created. */
  ageMs: number;
  /** Time left before it expires (negative: expired that long ago). */
  remainingMs: number;
  status?: "working" | "input_required" | "completed" | "failed" | "cancelled";
  revoked?: boolean;
};

async function createHandle(context: { serverId: string; principalId: string }, spec: THandleSpec) {
  const now = Date.now();
  return insertHandle(getPrisma(), {
    ...context,
    policyVersion: spec.policyVersion,
    createdAt: new Date(now - spec.ageMs),
    expiresAt: new Date(now + spec.remainingMs),
    status: spec.status ?? "working",
    ...(spec.revoked ? { revokedAt: new Date(now - MINUTE), revokeReason: "manual test revoke" } : {}),
  });
}

async function handleContext() {
  const server = await createServer();
  const agent = await createPrincipal(getPrisma(), { kind: "service", role: "viewer", email: null });
  return { serverId: server.id, principalId: agent.id };
}

function handleRow(id: string) {
  return getPrisma().handle.findUniqueOrThrow({ where: { id } });
}

/** The transaction that last wrote a row (xmin): equal values mean one commit wrote both. */
async function writerOf(table: "handle_policy" | "handle" | "audit_event", column: "version" | "id", value: string | number): Promise<string> {
  const cast = column === "version" ? "integer" : "uuid";
  const rows = await getPrisma().$queryRawUnsafe<Array<{ xmin: string }>>(`SELECT xmin::text AS xmin FROM ${table} WHERE ${column} = $1::${cast}`, String(value));
  if (rows.length !== 1) throw new Error(`no ${table} row ${value}`);
  return rows[0]!.xmin;
}

function handleEvents(handleId: string) {
  return getPrisma().auditEvent.findMany({ where: { targetType: "handle", targetId: handleId }, orderBy: { seq: "asc" } });
}

describe("changePolicy", () => {
  it("inserts the next version and its policy.changed event, naming only what changed, in one commit (admin)", async () => {
    const before = await getCurrentPolicy();
    const actor = await createAdmin();

    const result = await changePolicy({
      actor,
      data: inputFrom(before, { maxLiveHandlesPerPrincipal: before.maxLiveHandlesPerPrincipal + 7, reason: "  more agents this quarter  " }),
    });

    expect(result).toEqual({ version: before.version + 1, revoked: 0, clamped: 0 });
    const after = await getCurrentPolicy();
    expect(after).toMatchObject({
      ...before,
      version: before.version + 1,
      maxLiveHandlesPerPrincipal: before.maxLiveHandlesPerPrincipal + 7,
      reason: "more agents this quarter",
      createdById: actor.id,
      createdAt: expect.any(Date),
    });
    // The previous version is kept as it was: rows are never updated.
    const previous = await getPrisma().handlePolicy.findUniqueOrThrow({ where: { version: before.version } });
    expect(previous.maxLiveHandlesPerPrincipal).toBe(before.maxLiveHandlesPerPrincipal);

    const events = await auditEventsOfRequest(getPrisma(), actor.request.requestId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "policy.changed",
      actorType: "user",
      actorId: actor.id,
      actorRole: "admin",
      targetType: "policy",
      targetId: String(after.version),
      outcome: "ok",
      reason: "more agents this quarter",
      payload: {
        version: after.version,
        changes: { maxLiveHandlesPerPrincipal: { from: before.maxLiveHandlesPerPrincipal, to: before.maxLiveHandlesPerPrincipal + 7 } },
      },
    });
    expect(await writerOf("audit_event", "id", events[0]!.id)).toBe(await writerOf("handle_policy", "version", after.version));

    const [newest] = await listPolicyVersions({ actor });
    expect(newest).toMatchObject({
      version: after.version,
      reason: "more agents this quarter",
      createdBy: { id: actor.id, name: actor.name, email: actor.email },
      changes: { maxLiveHandlesPerPrincipal: { from: before.maxLiveHandlesPerPrincipal, to: before.maxLiveHandlesPerPrincipal + 7 } },
    });
  });

  it("stores allowed operations in canonical order and treats a reordering as no change", async () => {
    const before = await getCurrentPolicy();
    const actor = await createAdmin();
    await changePolicy({ actor, data: inputFrom(before, { allowedOperations: ["tasks/list", "tasks/get", "tasks/get"] }) });
    expect((await getCurrentPolicy()).allowedOperations).toEqual(["tasks/get", "tasks/list"]);

    const error = await expectAppError(changePolicy({ actor: await createAdmin(), data: inputFrom(await getCurrentPolicy(), { allowedOperations: ["tasks/list", "tasks/get"] }) }), "INVALID_STATE");
    expect(error.message).toMatch(/^No change/);

    await changePolicy({ actor, data: inputFrom(await getCurrentPolicy(), { allowedOperations: before.allowedOperations }) });
  });

  it.each(DENIED_ROLES)("refuses %s with FORBIDDEN and writes nothing (change, preview and history alike)", async (role) => {
    const before = await getCurrentPolicy();
    const actor = userActor(role);

    const error = await expectAppError(changePolicy({ actor, data: inputFrom(before, { maxTtlMs: before.maxTtlMs + MINUTE }) }), "FORBIDDEN");

    expect(error.status).toBe(403);
    await expectAppError(previewPolicyChange({ actor, data: inputFrom(before) }), "FORBIDDEN");
    await expectAppError(listPolicyVersions({ actor }), "FORBIDDEN");
    expect((await getCurrentPolicy()).version).toBe(before.version);
    expect(await auditEventsOfRequest(getPrisma(), actor.request.requestId)).toEqual([]);
  });

  it("refuses invalid input with INVALID_INPUT naming each field with a message a person can act on, and writes nothing", async () => {
    const before = await getCurrentPolicy();
    const actor = await createAdmin();

    const defaultOverMax = await expectAppError(changePolicy({ actor, data: inputFrom(before, { maxTtlMs: HOUR, defaultTtlMs: 2 * HOUR }) }), "INVALID_INPUT");
    expect(defaultOverMax.status).toBe(422);
    expect(defaultOverMax.issues).toEqual([{ path: "defaultTtlMs", message: "The default TTL cannot be longer than the maximum TTL (1 hour)." }]);

    const noOperations = await expectAppError(changePolicy({ actor, data: inputFrom(before, { allowedOperations: [] }) }), "INVALID_INPUT");
    expect(noOperations.issues).toEqual([{ path: "allowedOperations", message: "Allow at least one operation; a handle that allows nothing cannot be used." }]);

    const shortReason = await expectAppError(changePolicy({ actor, data: inputFrom(before, { maxTtlMs: before.maxTtlMs + MINUTE, reason: " ok " }) }), "INVALID_INPUT");
    expect(shortReason.issues).toEqual([{ path: "reason", message: "Give a reason for the change (at least 3 characters)." }]);

    // Every problem at once, the TTL comparison included although other fields failed.
    const all = await expectAppError(
      changePolicy({ actor, data: inputFrom(before, { maxTtlMs: HOUR, defaultTtlMs: 2 * HOUR, allowedOperations: [], reason: "x" }) }),
      "INVALID_INPUT",
    );
    expect(issuePaths(all)).toEqual(["allowedOperations", "defaultTtlMs", "reason"]);

    const outOfRange = await expectAppError(
      changePolicy({
        actor,
        data: inputFrom(before, {
          maxTtlMs: 8 * 24 * HOUR,
          defaultTtlMs: 500,
          maxLiveHandlesPerPrincipal: 0,
          requireSessionBinding: "yes",
          allowedOperations: ["tasks/get", "tools/call"],
          pollAuditLevel: "sometimes",
          invalidateOlderVersions: null,
          reason: "x".repeat(501),
        }),
      }),
      "INVALID_INPUT",
    );
    expect(issuePaths(outOfRange)).toEqual([
      "allowedOperations.1",
      "defaultTtlMs",
      "invalidateOlderVersions",
      "maxLiveHandlesPerPrincipal",
      "maxTtlMs",
      "pollAuditLevel",
      "reason",
      "requireSessionBinding",
    ]);
    expect(outOfRange.issues).toContainEqual({ path: "maxTtlMs", message: "The maximum TTL can be at most 7 days." });
    expect(outOfRange.issues).toContainEqual({ path: "defaultTtlMs", message: "The default TTL must be at least 1 second." });

    const missing = await expectAppError(changePolicy({ actor, data: {} }), "INVALID_INPUT");
    expect(issuePaths(missing)).toHaveLength(8);

    expect((await getCurrentPolicy()).version).toBe(before.version);
    expect(await auditEventsOfRequest(getPrisma(), actor.request.requestId)).toEqual([]);
  });

  it("answers INVALID_STATE (409) when nothing changed, also when only the reason differs, and writes nothing", async () => {
    const before = await getCurrentPolicy();
    const actor = await createAdmin();

    const error = await expectAppError(changePolicy({ actor, data: inputFrom(before, { reason: "a different reason" }) }), "INVALID_STATE");

    expect(error.status).toBe(409);
    expect(error.message).toBe(`No change: these settings are the ones version ${before.version} already has.`);
    expect((await getCurrentPolicy()).version).toBe(before.version);
    expect(await auditEventsOfRequest(getPrisma(), actor.request.requestId)).toEqual([]);
  });

  it("fails closed: when the audit insert fails, no version is added", async () => {
    const before = await getCurrentPolicy();
    const actor = await createAdmin();
    const reason = `force-audit-failure ${randomUUID()}`;

    await withFailingAuditInserts(getPrisma(), { reason }, async () => {
      await expect(changePolicy({ actor, data: inputFrom(before, { maxTtlMs: before.maxTtlMs + MINUTE, reason }) })).rejects.toThrow(FORCED_AUDIT_FAILURE);
    });

    expect((await getCurrentPolicy()).version).toBe(before.version);
  });

  it("gives concurrent changes consecutive versions, each built on the one before, without duplicates", async () => {
    const before = await getCurrentPolicy();
    const actors = await Promise.all([1, 2, 3, 4, 5].map(() => createAdmin()));

    const results = await Promise.all(
      actors.map((actor, i) => changePolicy({ actor, data: inputFrom(before, { maxLiveHandlesPerPrincipal: 1_000 + i, reason: `racer ${i}` }) })),
    );

    const versions = results.map((r) => r.version).sort((a, b) => a - b);
    expect(versions).toEqual([1, 2, 3, 4, 5].map((n) => before.version + n));
    const rows = await getPrisma().handlePolicy.findMany({ where: { version: { gt: before.version } }, orderBy: { version: "asc" } });
    expect(rows.map((r) => r.version)).toEqual(versions);
    const events = await getPrisma().auditEvent.findMany({ where: { action: "policy.changed", targetId: { in: versions.map(String) } } });
    expect(events.map((e) => (e.payload as { version: number }).version).sort((a, b) => a - b)).toEqual(versions);
    // Each event's "from" is the version before it: no change was computed from a stale read.
    for (const event of events) {
      const { version, changes } = event.payload as { version: number; changes: { maxLiveHandlesPerPrincipal: { from: number; to: number } } };
      const previous = version === before.version + 1 ? before.maxLiveHandlesPerPrincipal : rows.find((r) => r.version === version - 1)!.maxLiveHandlesPerPrincipal;
      expect(changes.maxLiveHandlesPerPrincipal).toEqual({ from: previous, to: rows.find((r) => r.version === version)!.maxLiveHandlesPerPrincipal });
    }
  });
});

describe("tightening the policy", () => {
  it("invalidating older versions revokes exactly the live handles, one handle.revoked each, in the same commit", async () => {
    const before = await setTtls(2 * HOUR, 15 * MINUTE);
    const ctx = await handleContext();
    const live = [
      await createHandle(ctx, { policyVersion: before.version, ageMs: 5 * MINUTE, remainingMs: 10 * MINUTE }),
      await createHandle(ctx, { policyVersion: before.version, ageMs: MINUTE, remainingMs: HOUR, status: "input_required" }),
      await createHandle(ctx, { policyVersion: 1, ageMs: 30 * MINUTE, remainingMs: 30 * MINUTE }),
    ];
    const untouched = [
      await createHandle(ctx, { policyVersion: before.version, ageMs: 5 * MINUTE, remainingMs: 10 * MINUTE, revoked: true }),
      await createHandle(ctx, { policyVersion: before.version, ageMs: 20 * MINUTE, remainingMs: -MINUTE }),
      await createHandle(ctx, { policyVersion: before.version, ageMs: 5 * MINUTE, remainingMs: 10 * MINUTE, status: "completed" }),
      await createHandle(ctx, { policyVersion: before.version, ageMs: 5 * MINUTE, remainingMs: 10 * MINUTE, status: "cancelled" }),
    ];
    const actor = await createAdmin();
    const data = inputFrom(before, { invalidateOlderVersions: true, reason: "suspected token leak" });

    const preview = await previewPolicyChange({ actor, data });
    const result = await changePolicy({ actor, data });

    expect(result).toEqual({ version: before.version + 1, revoked: 3, clamped: 0 });
    expect(preview).toEqual({
      baseVersion: before.version,
      nextVersion: result.version,
      changes: { minValidVersion: { from: before.minValidVersion, to: result.version } },
      revoked: result.revoked,
      clamped: result.clamped,
    });
    expect((await getCurrentPolicy()).minValidVersion).toBe(result.version);
    const policyWriter = await writerOf("handle_policy", "version", result.version);
    for (const handle of live) {
      expect(await handleRow(handle.id)).toEqual({
        ...handle,
        revokedAt: expect.any(Date),
        revokedById: actor.id,
        revokeReason: `policy v${result.version}: suspected token leak`,
        revokeTrigger: "policy_tightened",
      });
      const events = await handleEvents(handle.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: "handle.revoked",
        actorId: actor.id,
        actorRole: "admin",
        outcome: "ok",
        reason: `policy v${result.version}: suspected token leak`,
        requestId: actor.request.requestId,
        payload: { accessor: handle.accessor, trigger: "policy_tightened", serverId: ctx.serverId },
      });
      expect(await writerOf("audit_event", "id", events[0]!.id)).toBe(policyWriter);
      expect(await writerOf("handle", "id", handle.id)).toBe(policyWriter);
    }
    for (const handle of untouched) {
      expect(await handleRow(handle.id)).toEqual(handle);
      expect(await handleEvents(handle.id)).toEqual([]);
    }
  });

  it("lowering the maximum TTL revokes handles already older than it and brings the others' expiry forward", async () => {
    const before = await setTtls(2 * HOUR, 15 * MINUTE);
    const ctx = await handleContext();
    const overAge = await createHandle(ctx, { policyVersion: before.version, ageMs: 90 * MINUTE, remainingMs: 30 * MINUTE });
    const tooLong = await createHandle(ctx, { policyVersion: before.version, ageMs: 10 * MINUTE, remainingMs: 110 * MINUTE, status: "input_required" });
    const withinNewMax = await createHandle(ctx, { policyVersion: before.version, ageMs: 10 * MINUTE, remainingMs: 20 * MINUTE });
    const untouched = [
      await createHandle(ctx, { policyVersion: before.version, ageMs: 90 * MINUTE, remainingMs: 30 * MINUTE, revoked: true }),
      await createHandle(ctx, { policyVersion: before.version, ageMs: 90 * MINUTE, remainingMs: 30 * MINUTE, status: "failed" }),
      await createHandle(ctx, { policyVersion: before.version, ageMs: 90 * MINUTE, remainingMs: -MINUTE }),
      withinNewMax,
    ];
    const actor = await createAdmin();
    const data = inputFrom(before, { maxTtlMs: HOUR, reason: "shorter exposure window" });

    const preview = await previewPolicyChange({ actor, data });
    const result = await changePolicy({ actor, data });

    expect(result).toEqual({ version: before.version + 1, revoked: 1, clamped: 1 });
    expect(preview).toMatchObject({ nextVersion: result.version, revoked: 1, clamped: 1, changes: { maxTtlMs: { from: 2 * HOUR, to: HOUR } } });
    const policyWriter = await writerOf("handle_policy", "version", result.version);

    expect(await handleRow(overAge.id)).toEqual({
      ...overAge,
      revokedAt: expect.any(Date),
      revokedById: actor.id,
      revokeReason: `policy v${result.version}: shorter exposure window`,
      revokeTrigger: "policy_tightened",
    });
    expect(await handleEvents(overAge.id)).toMatchObject([
      { action: "handle.revoked", payload: { accessor: overAge.accessor, trigger: "policy_tightened", serverId: ctx.serverId } },
    ]);

    const clamped = await handleRow(tooLong.id);
    const newExpiry = new Date(tooLong.createdAt.getTime() + HOUR);
    expect(clamped).toEqual({ ...tooLong, expiresAt: newExpiry, effectiveTtlMs: HOUR });
    const clampEvents = await handleEvents(tooLong.id);
    expect(clampEvents).toMatchObject([
      {
        action: "handle.ttl_clamped",
        actorId: actor.id,
        reason: `policy v${result.version}: shorter exposure window`,
        payload: { accessor: tooLong.accessor, from: tooLong.expiresAt.toISOString(), to: newExpiry.toISOString() },
      },
    ]);
    expect(await writerOf("audit_event", "id", clampEvents[0]!.id)).toBe(policyWriter);
    expect(await writerOf("handle", "id", tooLong.id)).toBe(policyWriter);

    for (const handle of untouched) {
      expect(await handleRow(handle.id)).toEqual(handle);
      expect(await handleEvents(handle.id)).toEqual([]);
    }
  });

  it("previews exactly what a combined change then does, and the preview writes nothing", async () => {
    const before = await setTtls(2 * HOUR, 15 * MINUTE);
    const ctx = await handleContext();
    const handles = await Promise.all([
      createHandle(ctx, { policyVersion: before.version, ageMs: 90 * MINUTE, remainingMs: 30 * MINUTE }),
      createHandle(ctx, { policyVersion: before.version, ageMs: 10 * MINUTE, remainingMs: 110 * MINUTE }),
      createHandle(ctx, { policyVersion: before.version, ageMs: 2 * MINUTE, remainingMs: 13 * MINUTE }),
    ]);
    const actor = await createAdmin();

    // Lowering the maximum alone: one over age, one clamped.
    const lowerOnly = inputFrom(before, { maxTtlMs: HOUR, reason: "combined" });
    const lowerPreview = await previewPolicyChange({ actor, data: lowerOnly });
    expect([lowerPreview.revoked, lowerPreview.clamped]).toEqual([1, 1]);
    // With invalidation as well, every live handle is revoked and none is left to clamp.
    const both = { ...lowerOnly, invalidateOlderVersions: true };
    const bothPreview = await previewPolicyChange({ actor, data: both });
    expect([bothPreview.revoked, bothPreview.clamped]).toEqual([3, 0]);

    expect((await getCurrentPolicy()).version).toBe(before.version);
    for (const handle of handles) expect(await handleRow(handle.id)).toEqual(handle);
    expect(await auditEventsOfRequest(getPrisma(), actor.request.requestId)).toEqual([]);

    const result = await changePolicy({ actor, data: both });
    expect({ revoked: result.revoked, clamped: result.clamped }).toEqual({ revoked: bothPreview.revoked, clamped: bothPreview.clamped });
    expect(await getPrisma().auditEvent.count({ where: { requestId: actor.request.requestId, action: "handle.revoked" } })).toBe(3);
  });

  it("raising limits or turning session binding on changes no stored handle", async () => {
    const before = await setTtls(2 * HOUR, 15 * MINUTE);
    const ctx = await handleContext();
    const handle = await createHandle(ctx, { policyVersion: before.version, ageMs: 10 * MINUTE, remainingMs: 110 * MINUTE });
    const actor = await createAdmin();
    const data = inputFrom(before, { maxTtlMs: 3 * HOUR, requireSessionBinding: !before.requireSessionBinding, reason: "looser for a pilot" });

    expect(await previewPolicyChange({ actor, data })).toMatchObject({ revoked: 0, clamped: 0 });
    expect(await changePolicy({ actor, data })).toMatchObject({ revoked: 0, clamped: 0 });
    expect(await handleRow(handle.id)).toEqual(handle);
  });

  it("refuses with CONFLICT, and rolls everything back, when it would revoke more handles than the admin confirmed", async () => {
    const before = await setTtls(2 * HOUR, 15 * MINUTE);
    const ctx = await handleContext();
    const handle = await createHandle(ctx, { policyVersion: before.version, ageMs: 90 * MINUTE, remainingMs: 30 * MINUTE });
    const actor = await createAdmin();
    const data = inputFrom(before, { maxTtlMs: HOUR, reason: "confirmed none" });

    const error = await expectAppError(changePolicy({ actor, data, confirmedRevocations: 0 }), "CONFLICT");

    expect(error.message).toBe("This change now revokes 1 live handle, more than the 0 you confirmed. Check the preview and save again.");
    expect((await getCurrentPolicy()).version).toBe(before.version);
    expect(await handleRow(handle.id)).toEqual(handle);
    expect(await auditEventsOfRequest(getPrisma(), actor.request.requestId)).toEqual([]);

    expect(await changePolicy({ actor, data, confirmedRevocations: 1 })).toMatchObject({ revoked: 1 });
  });

  it("fails closed: when one handle's audit event fails, the version and every revocation roll back", async () => {
    const before = await setTtls(2 * HOUR, 15 * MINUTE);
    const ctx = await handleContext();
    const handles = [
      await createHandle(ctx, { policyVersion: before.version, ageMs: 5 * MINUTE, remainingMs: 10 * MINUTE }),
      await createHandle(ctx, { policyVersion: before.version, ageMs: 5 * MINUTE, remainingMs: 10 * MINUTE }),
    ];
    const actor = await createAdmin();

    await withFailingAuditInserts(getPrisma(), { targetId: handles[1]!.id }, async () => {
      await expect(changePolicy({ actor, data: inputFrom(before, { invalidateOlderVersions: true, reason: "rolls back" }) })).rejects.toThrow(FORCED_AUDIT_FAILURE);
    });

    expect((await getCurrentPolicy()).version).toBe(before.version);
    for (const handle of handles) expect(await handleRow(handle.id)).toEqual(handle);
    expect(await auditEventsOfRequest(getPrisma(), actor.request.requestId)).toEqual([]);
  });
});
