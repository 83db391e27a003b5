// Reading the audit trail on the real database: who may search, that every filter narrows in
// the database, that keyset pages are stable and complete, that each read is itself audited,
// and the admin-only lookup of events that refer to a secret value by its keyed hash.
// Every test tags its events with a target type of its own, so the run's shared database
// (other files write events too) never changes what a test sees.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { getAuditEvent } from "@/lib/audit/get-audit-event";
import { hashAuditReference } from "@/lib/audit/hash-audit-reference";
import { recordAuditEvent, type TAuditEventInput } from "@/lib/audit/record-audit-event";
import { decodeAuditCursor, encodeAuditCursor } from "@/lib/audit/schemas";
import { sealAuditChain } from "@/lib/audit/seal-audit-chain";
import { searchAuditEvents } from "@/lib/audit/search-audit-events";
import { systemActor, type TActor } from "@/lib/auth/actor";
import type { TRole } from "@/lib/auth/permissions";
import { signInWithPassword } from "@/lib/auth/sign-in-with-password";
import { getPool, getPrisma } from "@/lib/db/client";
import { createPrincipal, newRequest, uniqueIp, userActor } from "../factories/principals";
import { auditEventsOfRequest } from "./support/audit";
import { setUpTestSecrets } from "./support/env";
import { expectAppError, issuePaths } from "./support/errors";

setUpTestSecrets();

const prisma = getPrisma();

afterAll(async () => {
  await prisma.$disconnect();
});

/** A target type no other test uses: the handle that keeps each test's events apart. */
const uniqueTag = () => `t-${randomUUID()}`;

type TEventSpec = Partial<Omit<TAuditEventInput<"user.enabled">, "action" | "payload">> & { action?: "user.enabled" | "user.disabled" };

/** Records one event through the real writer, in its own transaction, and returns its stored row. */
async function record(tag: string, spec: TEventSpec = {}) {
  const actor = spec.actor ?? systemActor("audit-search-test", `req-${randomUUID()}`);
  const action = spec.action ?? "user.enabled";
  await prisma.$transaction((tx) =>
    action === "user.disabled"
      ? recordAuditEvent(tx, { actor, action, target: spec.target ?? { type: tag, id: randomUUID() }, outcome: spec.outcome ?? "ok", payload: { endedSessions: 2 } })
      : recordAuditEvent(tx, { actor, action, target: spec.target ?? { type: tag, id: randomUUID() }, outcome: spec.outcome ?? "ok", payload: {} }),
  );
  return prisma.auditEvent.findFirstOrThrow({ where: { requestId: actor.request.requestId, targetType: spec.target?.type ?? tag }, orderBy: { seq: "desc" } });
}

async function recordMany(tag: string, n: number) {
  const rows = [];
  for (let i = 0; i < n; i++) rows.push(await record(tag));
  return rows;
}

const ids = (events: Array<{ id: string }>) => events.map((e) => e.id);
const newestFirst = <T extends { seq: bigint }>(rows: T[]) => [...rows].sort((a, b) => (a.seq < b.seq ? 1 : -1));

describe("searchAuditEvents", () => {
  for (const role of ["auditor", "admin"] as const) {
    it(`lets an ${role} search, newest first, and records the search in the same commit`, async () => {
      const tag = uniqueTag();
      const rows = await recordMany(tag, 3);
      const actor = userActor(role);

      const result = await searchAuditEvents({ actor, filter: { targetType: tag } });

      expect(ids(result.events)).toEqual(ids(newestFirst(rows)));
      expect(result.nextCursor).toBeNull();
      const newest = newestFirst(rows)[0]!;
      expect(result.events[0]).toEqual({
        seq: newest.seq.toString(),
        id: newest.id,
        occurredAt: newest.occurredAt,
        actorType: "system",
        actorId: "system",
        actorRole: null,
        action: "user.enabled",
        targetType: tag,
        targetId: newest.targetId,
        outcome: "ok",
        reason: null,
        requestId: newest.requestId,
        ip: null,
        userAgent: null,
        payload: {},
        chain: null,
      });

      const [searched, ...others] = await auditEventsOfRequest(prisma, actor.request.requestId);
      expect(others).toHaveLength(0);
      expect(searched).toMatchObject({
        action: "audit.searched",
        actorType: "user",
        actorId: actor.id,
        actorRole: role,
        outcome: "ok",
        payload: { filter: { targetType: tag, limit: 50 }, resultCount: 3 },
      });
    });
  }

  for (const role of ["viewer", "reviewer", "support"] as const satisfies TRole[]) {
    it(`refuses a ${role} and records no search`, async () => {
      const tag = uniqueTag();
      await record(tag);
      const actor = userActor(role);

      const error = await expectAppError(searchAuditEvents({ actor, filter: { targetType: tag } }), "FORBIDDEN");

      expect(error.status).toBe(403);
      expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toHaveLength(0);
    });
  }

  it("narrows by every filter, in the database", async () => {
    const tag = uniqueTag();
    const alice = userActor("admin");
    const service: TActor = { type: "service", id: randomUUID(), role: "reviewer", name: "agent", request: newRequest() };
    const targetId = randomUUID();

    const first = await record(tag, { actor: alice });
    await new Promise((r) => setTimeout(r, 15));
    const denied = await record(tag, { actor: service, action: "user.disabled", outcome: "denied", target: { type: tag, id: targetId } });
    await new Promise((r) => setTimeout(r, 15));
    const system = await record(tag, { outcome: "error", target: { type: tag, id: targetId } });
    expect(first.occurredAt < denied.occurredAt && denied.occurredAt < system.occurredAt).toBe(true);

    const auditor = userActor("auditor");
    const search = async (filter: Record<string, unknown>) => ids((await searchAuditEvents({ actor: auditor, filter: { targetType: tag, ...filter } })).events);

    expect(await search({})).toEqual([system.id, denied.id, first.id]);
    expect(await search({ actorId: alice.id })).toEqual([first.id]);
    expect(await search({ actorType: "service" })).toEqual([denied.id]);
    expect(await search({ actorType: ["user", "system"] })).toEqual([system.id, first.id]);
    expect(await search({ actorType: "user,service" })).toEqual([denied.id, first.id]);
    expect(await search({ action: "user.disabled" })).toEqual([denied.id]);
    expect(await search({ action: ["user.enabled"] })).toEqual([system.id, first.id]);
    expect(await search({ outcome: ["denied", "error"] })).toEqual([system.id, denied.id]);
    expect(await search({ targetId })).toEqual([system.id, denied.id]);
    expect(await search({ requestId: service.request.requestId })).toEqual([denied.id]);
    // Both ends of the time range are inclusive, as in the export.
    expect(await search({ from: denied.occurredAt.toISOString() })).toEqual([system.id, denied.id]);
    expect(await search({ to: denied.occurredAt.toISOString() })).toEqual([denied.id, first.id]);
    expect(await search({ from: denied.occurredAt, to: denied.occurredAt })).toEqual([denied.id]);
    // Filters combine with AND.
    expect(await search({ actorType: "system", outcome: "denied" })).toEqual([]);
    // A target type no event has.
    expect(ids((await searchAuditEvents({ actor: auditor, filter: { targetType: uniqueTag() } })).events)).toEqual([]);
  });

  it("pages by keyset, newest first: complete, without repeats, stable while events arrive", async () => {
    const tag = uniqueTag();
    const rows = newestFirst(await recordMany(tag, 7));
    const auditor = userActor("auditor");

    const page1 = await searchAuditEvents({ actor: auditor, filter: { targetType: tag, limit: 3 } });
    // A newer event arriving between pages goes to the top, not into the pages being read.
    const late = await record(tag);
    const page2 = await searchAuditEvents({ actor: auditor, filter: { targetType: tag, limit: "3", cursor: page1.nextCursor } });
    const page3 = await searchAuditEvents({ actor: auditor, filter: { targetType: tag, limit: 3, cursor: page2.nextCursor } });

    expect(ids(page1.events)).toEqual(ids(rows.slice(0, 3)));
    expect(ids(page2.events)).toEqual(ids(rows.slice(3, 6)));
    expect(ids(page3.events)).toEqual(ids(rows.slice(6)));
    expect(page3.nextCursor).toBeNull();
    // The cursor is the last seq of the page, opaque to callers.
    expect(decodeAuditCursor(page1.nextCursor!)).toBe(rows[2]!.seq.toString());

    const again = await searchAuditEvents({ actor: auditor, filter: { targetType: tag, limit: 3 } });
    expect(ids(again.events)).toEqual([late.id, ...ids(rows.slice(0, 2))]);

    // A page that ends exactly at the last event says so: no empty page after it.
    const exact = await searchAuditEvents({ actor: auditor, filter: { targetType: tag, limit: 8 } });
    expect(exact.events).toHaveLength(8);
    expect(exact.nextCursor).toBeNull();

    // Each page view is its own audit event; the cursor is not part of the recorded filter.
    const searched = await auditEventsOfRequest(prisma, auditor.request.requestId);
    expect(searched.map((e) => e.action)).toEqual(Array(5).fill("audit.searched"));
    expect(searched.map((e) => (e.payload as { resultCount: number }).resultCount)).toEqual([3, 3, 1, 3, 8]);
    expect(searched[1]!.payload).toEqual({ filter: { targetType: tag, limit: 3 }, resultCount: 3 });
  });

  it("answers a malformed cursor with INVALID_INPUT and a message that says what to do", async () => {
    const auditor = userActor("auditor");
    for (const cursor of ["not a cursor", "MDEy" /* "012" */, encodeAuditCursor("123") + "A", "LTE" /* "-1" */, encodeAuditCursor("9999999999999999999") /* > 2^63 - 1 */]) {
      const error = await expectAppError(searchAuditEvents({ actor: auditor, filter: { cursor } }), "INVALID_INPUT");
      expect(error.status).toBe(422);
      expect(error.message).toMatch(/cursor is not one Tether issued.*Start again/);
      expect(issuePaths(error)).toEqual(["cursor"]);
    }
    expect(await auditEventsOfRequest(prisma, auditor.request.requestId)).toHaveLength(0);
  });

  it("answers other malformed filters with INVALID_INPUT naming each field", async () => {
    const auditor = userActor("auditor");
    const error = await expectAppError(
      searchAuditEvents({
        actor: auditor,
        filter: { from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z", action: ["user.enabled", "no.such_action"], actorType: "robot", outcome: "maybe", limit: "500", refHash: "short", bogus: "1" },
      }),
      "INVALID_INPUT",
    );
    expect(issuePaths(error)).toEqual(["(root)", "action", "actorType", "limit", "outcome", "refHash", "to"]);
    expect(error.issues!.find((i) => i.path === "action")!.message).toBe('Unknown action "no.such_action".');

    const reversed = await expectAppError(searchAuditEvents({ actor: auditor, filter: { from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z" } }), "INVALID_INPUT");
    expect(reversed.issues).toEqual([{ path: "to", message: "“From” must not be after “To”." }]);
    expect(await auditEventsOfRequest(prisma, auditor.request.requestId)).toHaveLength(0);
  });
});

describe("getAuditEvent", () => {
  it("returns every field with the chain link once sealed, and records the view in the same commit", async () => {
    const tag = uniqueTag();
    const actor = userActor("reviewer", { request: newRequest({ ip: "203.0.113.7", userAgent: "vitest/1" }) });
    await prisma.$transaction((tx) =>
      recordAuditEvent(tx, { actor, action: "user.role_changed", target: { type: tag, id: "p-1" }, reason: "promotion", payload: { from: "viewer", to: "reviewer" } }),
    );
    const row = await prisma.auditEvent.findFirstOrThrow({ where: { targetType: tag } });
    const auditor = userActor("auditor");

    const before = await getAuditEvent({ actor: auditor, id: row.id });
    expect(before).toMatchObject({
      id: row.id,
      seq: row.seq.toString(),
      actorType: "user",
      actorId: actor.id,
      actorRole: "reviewer",
      action: "user.role_changed",
      targetType: tag,
      targetId: "p-1",
      reason: "promotion",
      requestId: actor.request.requestId,
      ip: "203.0.113.7",
      userAgent: "vitest/1",
      payload: { from: "viewer", to: "reviewer" },
      chain: null,
    });

    for (let i = 0; i < 20 && (await sealAuditChain(getPool(), { signingKey: null })).sealed > 0; i++);
    const link = await prisma.auditChain.findUniqueOrThrow({ where: { eventSeq: row.seq } });
    const after = await getAuditEvent({ actor: auditor, id: row.id });
    expect(after.chain).toEqual({ position: link.position.toString(), hash: link.hash });
    // The list shows the same link.
    const listed = await searchAuditEvents({ actor: auditor, filter: { targetType: tag } });
    expect(listed.events[0]!.chain).toEqual(after.chain);

    const views = (await auditEventsOfRequest(prisma, auditor.request.requestId)).filter((e) => e.action === "audit.viewed");
    expect(views).toHaveLength(2);
    expect(views[0]).toMatchObject({ actorId: auditor.id, targetType: "audit_event", targetId: row.id, payload: { eventId: row.id } });
  });

  it("answers NOT_FOUND for an unknown or malformed id and records nothing", async () => {
    const auditor = userActor("auditor");
    await expectAppError(getAuditEvent({ actor: auditor, id: randomUUID() }), "NOT_FOUND");
    await expectAppError(getAuditEvent({ actor: auditor, id: "1; DROP TABLE audit_event" }), "NOT_FOUND");
    expect(await auditEventsOfRequest(prisma, auditor.request.requestId)).toHaveLength(0);
  });

  it("refuses a role without audit.read", async () => {
    const tag = uniqueTag();
    const row = await record(tag);
    const viewer = userActor("viewer");
    await expectAppError(getAuditEvent({ actor: viewer, id: row.id }), "FORBIDDEN");
    expect(await auditEventsOfRequest(prisma, viewer.request.requestId)).toHaveLength(0);
  });
});

describe("hashAuditReference and the refHash filter", () => {
  it("finds a failed sign-in by the email that was tried, without storing the address or the hash", async () => {
    const principal = await createPrincipal(prisma, { role: "viewer", password: "correct horse battery staple" });
    const email = principal.email!;
    const signInRequest = newRequest({ ip: uniqueIp() });
    await expectAppError(signInWithPassword({ email, password: "wrong password entirely", request: signInRequest }), "UNAUTHENTICATED");
    const [failure] = await auditEventsOfRequest(prisma, signInRequest.requestId);
    expect(failure!.action).toBe("auth.sign_in_failed");

    const admin = userActor("admin");
    // Normalised as sign-in normalises: case and surrounding spaces do not matter.
    const hash = await hashAuditReference({ actor: admin, kind: "email", value: `  ${email.toUpperCase()} ` });
    expect(hash).toBe((failure!.payload as { emailHash: string }).emailHash);

    const found = await searchAuditEvents({ actor: admin, filter: { refHash: hash } });
    expect(ids(found.events)).toContain(failure!.id);
    expect(found.events.every((e) => JSON.stringify(e.payload).includes(hash))).toBe(true);
    // Another value's hash does not match it.
    const other = await hashAuditReference({ actor: admin, kind: "email", value: `someone-else-${randomUUID()}@example.test` });
    expect(ids((await searchAuditEvents({ actor: admin, filter: { refHash: other } })).events)).not.toContain(failure!.id);
    // The same string as another kind is another hash.
    expect(await hashAuditReference({ actor: admin, kind: "value", value: email })).not.toBe(hash);

    const lookups = (await auditEventsOfRequest(prisma, admin.request.requestId)).filter((e) => e.action === "audit.reference_hashed");
    expect(lookups.map((e) => e.payload)).toEqual([{ kind: "email" }, { kind: "email" }, { kind: "value" }]);
    for (const row of lookups) {
      const text = JSON.stringify(row, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)).toLowerCase();
      expect(text).not.toContain(email.toLowerCase());
      expect(text).not.toContain(hash.toLowerCase());
    }
  });

  it("matches the hash at any depth of the payload, and only as a whole string value", async () => {
    const tag = uniqueTag();
    const admin = userActor("admin");
    const hash = await hashAuditReference({ actor: admin, kind: "token", value: ` tok_${randomUUID()} ` });
    // policy.changed carries arbitrary JSON, so the hash can sit deep inside it.
    const write = (changes: Record<string, unknown>) =>
      prisma.$transaction((tx) =>
        recordAuditEvent(tx, { actor: systemActor("t", `req-${randomUUID()}`), action: "policy.changed", target: { type: tag, id: "x" }, payload: { version: 1, changes: changes as never } }),
      );
    await write({ nested: { list: [1, { ref: hash }] } });
    await write({ prefix: `${hash}-suffix` });
    await write({ other: "value" });
    const deep = await prisma.auditEvent.findFirstOrThrow({ where: { targetType: tag }, orderBy: { seq: "asc" } });

    const found = await searchAuditEvents({ actor: admin, filter: { refHash: hash, targetType: tag } });
    expect(ids(found.events)).toEqual([deep.id]);
  });

  it("is for admins only: an auditor is refused and nothing is recorded", async () => {
    const auditor = userActor("auditor");
    await expectAppError(hashAuditReference({ actor: auditor, kind: "email", value: "a@example.test" }), "FORBIDDEN");
    await expectAppError(hashAuditReference({ actor: userActor("viewer"), kind: "email", value: "a@example.test" }), "FORBIDDEN");
    expect(await auditEventsOfRequest(prisma, auditor.request.requestId)).toHaveLength(0);
  });

  it("rejects a bad kind or value without echoing the value", async () => {
    const admin = userActor("admin");
    const secret = `not-an-email-${randomUUID()}`;
    const badEmail = await expectAppError(hashAuditReference({ actor: admin, kind: "email", value: secret }), "INVALID_INPUT");
    expect(issuePaths(badEmail)).toEqual(["value"]);
    expect(JSON.stringify({ message: badEmail.message, issues: badEmail.issues })).not.toContain(secret);
    const badKind = await expectAppError(hashAuditReference({ actor: admin, kind: "password", value: "x" }), "INVALID_INPUT");
    expect(issuePaths(badKind)).toEqual(["kind"]);
    await expectAppError(hashAuditReference({ actor: admin, kind: "value", value: "" }), "INVALID_INPUT");
    expect(await auditEventsOfRequest(prisma, admin.request.requestId)).toHaveLength(0);
  });
});
