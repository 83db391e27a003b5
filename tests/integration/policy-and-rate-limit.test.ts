// The default policy is installed once per database, so this file runs on a database of its own
// (nothing else can have installed it first); the Postgres rate-limit counters run there too.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import { clearRateLimit, incrementRateLimit, peekRateLimit } from "@/lib/auth/consume-rate-limit";
import { getPrisma } from "@/lib/db/client";
import { DEFAULT_POLICY } from "@/lib/policy/default-policy";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { auditEventsOfRequest } from "./support/audit";
import { setUpOwnDatabase } from "./support/own-database";
import { FORCED_AUDIT_FAILURE, withFailingAuditInserts } from "./support/triggers";

setUpOwnDatabase();

function policyChangedEvents() {
  return getPrisma().auditEvent.findMany({ where: { action: "policy.changed" } });
}

function startActor() {
  return systemActor("start", `start-${randomUUID()}`);
}

// These two run in order: the first must find no policy, the second installs it.
describe("ensureDefaultPolicy", () => {
  it("fails closed: without its audit event, no policy is installed", async () => {
    const prisma = getPrisma();
    expect(await prisma.handlePolicy.count(), "this file's database must start without a policy").toBe(0);
    const actor = startActor();

    await withFailingAuditInserts(prisma, { action: "policy.changed" }, async () => {
      await expect(ensureDefaultPolicy(prisma, actor)).rejects.toThrow(FORCED_AUDIT_FAILURE);
    });

    expect(await prisma.handlePolicy.count()).toBe(0);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("installs version 1 exactly once, with one policy.changed event, however often and concurrently it runs", async () => {
    const prisma = getPrisma();
    expect(await prisma.handlePolicy.count(), "this file's database must start without a policy").toBe(0);
    const racers = [startActor(), startActor(), startActor()];

    const installed = await Promise.all(racers.map((actor) => ensureDefaultPolicy(prisma, actor)));

    expect(installed.filter(Boolean)).toHaveLength(1);
    const winner = racers[installed.indexOf(true)]!;
    expect(await ensureDefaultPolicy(prisma, startActor())).toBe(false);

    const policies = await prisma.handlePolicy.findMany();
    expect(policies).toHaveLength(1);
    expect(policies[0]).toMatchObject({ version: 1, ...DEFAULT_POLICY, reason: "initial default policy", createdById: null });
    const events = await policyChangedEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actorType: "system",
      actorId: "system",
      actorRole: null,
      targetType: "policy",
      targetId: "1",
      outcome: "ok",
      reason: "initial default policy",
      requestId: winner.request.requestId,
      payload: { version: 1, changes: DEFAULT_POLICY },
    });
  });
});

describe("rate-limit counters", () => {
  const key = (label: string) => `test:${label}:${randomUUID()}`;

  it("counts within a window, shares the window's end, and peeks without counting", async () => {
    const prisma = getPrisma();
    const k = key("count");

    const first = await incrementRateLimit(prisma, k, 60);
    const second = await incrementRateLimit(prisma, k, 60);
    const third = await incrementRateLimit(prisma, k, 60);

    expect([first.count, second.count, third.count]).toEqual([1, 2, 3]);
    expect(third.resetAt).toEqual(first.resetAt);
    expect(first.resetAt.getTime() - Date.now()).toBeGreaterThan(55_000);
    expect(third.retryAfterSeconds).toBeGreaterThan(0);
    expect(third.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect((await peekRateLimit(prisma, k)).count).toBe(3);
    expect((await peekRateLimit(prisma, k)).count).toBe(3);
    expect((await peekRateLimit(prisma, key("other"))).count).toBe(0);
  });

  it("starts a new window once the old one has passed", async () => {
    const prisma = getPrisma();
    const k = key("window");
    const first = await incrementRateLimit(prisma, k, 3);
    const before = await incrementRateLimit(prisma, k, 3);
    expect(before.count).toBe(2);
    expect(before.resetAt).toEqual(first.resetAt);

    // Until the window's end has passed (Postgres and this process share the host's clock).
    const end = before.resetAt.getTime();
    for (const deadline = Date.now() + 5_000; Date.now() <= end && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(Date.now(), "the 3 s window did not end within 5 s").toBeGreaterThan(end);

    expect(await peekRateLimit(prisma, k)).toMatchObject({ count: 0, retryAfterSeconds: 0 });
    const after = await incrementRateLimit(prisma, k, 1);
    expect(after.count).toBe(1);
    expect(after.resetAt.getTime()).toBeGreaterThan(before.resetAt.getTime());
  });

  it("counts every one of many simultaneous increments exactly once", async () => {
    const prisma = getPrisma();
    const k = key("parallel");

    const states = await Promise.all(Array.from({ length: 20 }, () => incrementRateLimit(prisma, k, 60)));

    expect(states.map((s) => s.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await peekRateLimit(prisma, k)).count).toBe(20);
  });

  it("counts inside a transaction and clears a key", async () => {
    const prisma = getPrisma();
    const k = key("clear");

    await prisma.$transaction(async (tx) => {
      await incrementRateLimit(tx, k, 60);
      await incrementRateLimit(tx, k, 60);
    });
    expect((await peekRateLimit(prisma, k)).count).toBe(2);

    await clearRateLimit(prisma, k);

    expect(await prisma.rateLimit.findUnique({ where: { key: k } })).toBeNull();
    expect((await incrementRateLimit(prisma, k, 60)).count).toBe(1);
  });
});
