// Bulk revoke and cancel (lib/bulk) against real parts: this file's own Postgres, handles minted by
// the real gateway for official SDK clients on Tether's demo upstream (in-process, real HTTP), and
// the real bulk worker. The preview must be exactly what runs; a changed set must be refused; the
// two-person rule must hold; a job must survive its runner dying at any point without revoking a
// handle twice; and a bulk-revoked handle must be refused by the gateway at its very next use.
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { GET as getBulkRoute } from "@/app/api/v1/bulk/[id]/route";
import { POST as approveRoute } from "@/app/api/v1/bulk/[id]/approve/route";
import { GET as itemsRoute } from "@/app/api/v1/bulk/[id]/items/route";
import { POST as previewRoute } from "@/app/api/v1/bulk/preview/route";
import { POST as createRoute, GET as listRoute } from "@/app/api/v1/bulk/route";
import { createApiKey } from "@/lib/api-keys/create-api-key";
import { createServiceAccount } from "@/lib/api-keys/create-service-account";
import { systemActor, type TActor } from "@/lib/auth/actor";
import type { TRole } from "@/lib/auth/permissions";
import { approveBulkAction } from "@/lib/bulk/approve-bulk-action";
import { cancelBulkAction } from "@/lib/bulk/cancel-bulk-action";
import { createBulkAction } from "@/lib/bulk/create-bulk-action";
import { getBulkAction } from "@/lib/bulk/get-bulk-action";
import { listBulkActionItems } from "@/lib/bulk/list-bulk-action-items";
import { listBulkActions } from "@/lib/bulk/list-bulk-actions";
import { previewBulkAction } from "@/lib/bulk/preview-bulk-action";
import { rejectBulkAction } from "@/lib/bulk/reject-bulk-action";
import { runBulkActions } from "@/lib/bulk/run-bulk-actions";
import type { TBulkPreview } from "@/lib/bulk/schemas";
import { sealAuditChain } from "@/lib/audit/seal-audit-chain";
import { getAuditSigningKey } from "@/lib/audit/signing-key";
import { verifyAuditChain } from "@/lib/audit/verify-audit-chain";
import { getPool, getPrisma } from "@/lib/db/client";
import { gatewayCache } from "@/lib/gateway/gateway-cache";
import { handleTokenHash } from "@/lib/gateway/handle-token";
import { revokeHandle } from "@/lib/handles/revoke-handle";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { insertHandle } from "../factories/handles";
import { actorFor, createPrincipal, newRequest } from "../factories/principals";
import { setUpEnv, setUpTestSecrets } from "./support/env";
import { expectAppError } from "./support/errors";
import { captureLogs, connectAgent, createAgent, createTask, registerServer, startDemoServer, type TAgent, type TConnectedAgent } from "./support/gateway";
import { setUpOwnDatabase } from "./support/own-database";

setUpOwnDatabase();
setUpTestSecrets();
// Small sets exercise the two-person rule: more than 5 handles need a second reviewer.
setUpEnv(() => ({
  TETHER_BULK_APPROVAL_THRESHOLD: "5",
  TETHER_AUDIT_SIGNING_KEY: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
}));

const prisma = () => getPrisma();
const people = {} as Record<TRole | "reviewer2", TActor>;
let server: { id: string; slug: string };
let demo: Awaited<ReturnType<typeof startDemoServer>>;
let agent: TAgent;
const open: TConnectedAgent[] = [];
let logs: ReturnType<typeof captureLogs>;

beforeAll(async () => {
  logs = captureLogs();
  await ensureDefaultPolicy(prisma(), systemActor("test", `bulk-${randomUUID()}`));
  demo = await startDemoServer();
  server = await registerServer({ url: demo.url, bearerToken: demo.bearerToken });
  for (const role of ["admin", "reviewer", "support", "auditor", "viewer"] as const) people[role] = actorFor(await createPrincipal(prisma(), { role }));
  people.reviewer2 = actorFor(await createPrincipal(prisma(), { role: "reviewer" }));
  agent = await createAgent(people.admin, "bulk-agent");
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(open.map((c) => c.client.close()));
  await demo?.close();
  logs?.restore();
});

function as(who: TRole | "reviewer2"): TActor {
  return { ...people[who], request: newRequest() } as TActor;
}

/** An owner of its own with `n` live handles (and, optionally, some that a revoke does not apply to). */
async function ownerWith(n: number, extra: { revoked?: number; expired?: number; completed?: number } = {}) {
  const owner = await createPrincipal(prisma(), { kind: "service", role: "viewer" });
  const live = [];
  for (let i = 0; i < n; i++) live.push(await insertHandle(prisma(), { serverId: server.id, principalId: owner.id, createdAt: new Date(Date.now() - 60_000 + i) }));
  for (let i = 0; i < (extra.revoked ?? 0); i++) await insertHandle(prisma(), { serverId: server.id, principalId: owner.id, revokedAt: new Date() });
  for (let i = 0; i < (extra.expired ?? 0); i++) {
    await insertHandle(prisma(), { serverId: server.id, principalId: owner.id, createdAt: new Date(Date.now() - 7_200_000), expiresAt: new Date(Date.now() - 1000) });
  }
  for (let i = 0; i < (extra.completed ?? 0); i++) live.push(await insertHandle(prisma(), { serverId: server.id, principalId: owner.id, status: "completed" }));
  return { owner, live };
}

const byOwner = (ownerId: string) => ({ type: "filter" as const, filter: `owner=${ownerId}` });

async function request(actor: TActor, preview: TBulkPreview, reason = "incident 42: revoke the lot") {
  return createBulkAction({
    actor,
    data: { kind: preview.kind, selection: { type: "filter", filter: preview.selection.type === "filter" ? preview.selection.filter : {} }, reason, expectedCount: preview.count, fingerprint: preview.fingerprint, asOf: preview.asOf },
  });
}

async function itemHandleIds(bulkId: string): Promise<string[]> {
  const rows = await prisma().bulkActionItem.findMany({ where: { bulkActionId: bulkId }, orderBy: { ordinal: "asc" }, select: { handleId: true } });
  return rows.map((r) => r.handleId);
}

async function xminOf(table: "handle" | "audit_event", id: string): Promise<string> {
  const rows = await prisma().$queryRawUnsafe<Array<{ xmin: string }>>(`SELECT xmin::text AS xmin FROM ${table} WHERE id = $1::uuid`, id);
  return rows[0]!.xmin;
}

function bulkEvents(bulkId: string) {
  return prisma().auditEvent.findMany({ where: { targetType: "bulk_action", targetId: bulkId }, orderBy: { seq: "asc" } });
}

describe("preview and request", () => {
  it("previews exactly the live handles of a filter, and executes exactly those handles, each audited with its revocation", async () => {
    const { owner, live } = await ownerWith(4, { revoked: 2, expired: 1 });
    const reviewer = as("reviewer");
    const preview = await previewBulkAction({ actor: reviewer, data: { kind: "revoke", selection: byOwner(owner.id) } });
    expect(preview).toMatchObject({ kind: "revoke", count: 4, notApplicable: 3, needsApproval: false, approvalThreshold: 5, moreServers: 0, moreOwners: 0 });
    expect(preview.selection).toEqual({ type: "filter", filter: { owner: [owner.id] } });
    expect(preview.byServer).toEqual([{ id: server.id, slug: server.slug, name: `Upstream ${server.slug}`, count: 4 }]);
    expect(preview.byOwner).toEqual([{ id: owner.id, name: owner.name, kind: "service", count: 4 }]);
    expect(new Set(preview.sample.map((s) => s.accessor))).toEqual(new Set(live.map((h) => h.accessor)));

    // A handle minted after the preview is not part of what the reviewer saw, and is left alone.
    const later = await insertHandle(prisma(), { serverId: server.id, principalId: owner.id });
    const bulk = await request(reviewer, preview);
    expect(bulk).toMatchObject({ status: "approved", count: 4, needsApproval: false, requestedBy: { id: reviewer.id }, progress: { total: 4, processed: 0 } });
    expect(new Set(await itemHandleIds(bulk.id))).toEqual(new Set(live.map((h) => h.id)));
    const [requested] = await bulkEvents(bulk.id);
    expect(requested).toMatchObject({ action: "bulk.requested", actorId: reviewer.id, reason: "incident 42: revoke the lot", payload: { count: 4, needsApproval: false } });
    expect(await xminOf("audit_event", requested!.id)).toBe((await prisma().$queryRawUnsafe<Array<{ x: string }>>(`SELECT xmin::text AS x FROM bulk_action WHERE id = $1::uuid`, bulk.id))[0]!.x);

    expect(await runBulkActions({ jobId: bulk.id })).toMatchObject({ jobs: 1 });
    const done = await getBulkAction({ actor: as("admin"), id: bulk.id });
    expect(done).toMatchObject({ status: "completed", progress: { total: 4, processed: 4, done: 4, skipped: 0, failed: 0 } });
    expect(done.results).toEqual([{ result: "revoked", cancelOutcome: null, count: 4 }]);
    for (const h of live) {
      const row = await prisma().handle.findUniqueOrThrow({ where: { id: h.id } });
      expect(row).toMatchObject({ revokeTrigger: "bulk", revokedById: reviewer.id, revokeReason: "incident 42: revoke the lot" });
      const events = await prisma().auditEvent.findMany({ where: { targetId: h.id, action: "handle.revoked" } });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ actorId: reviewer.id, actorRole: "reviewer", payload: { trigger: "bulk", bulkActionId: bulk.id, accessor: h.accessor } });
      // The revocation and its event in one commit.
      expect(await xminOf("audit_event", events[0]!.id)).toBe(await xminOf("handle", h.id));
    }
    expect((await prisma().handle.findUniqueOrThrow({ where: { id: later.id } })).revokedAt).toBeNull();
    expect((await bulkEvents(bulk.id)).map((e) => e.action)).toEqual(["bulk.requested", "bulk.started", "bulk.completed"]);
    expect((await bulkEvents(bulk.id)).at(-1)!.payload).toMatchObject({ done: 4, skipped: 0, failed: 0, count: 4 });

    const items = await listBulkActionItems({ actor: as("reviewer2"), query: { id: bulk.id, limit: "3" } });
    expect(items.items.map((i) => i.result)).toEqual(["revoked", "revoked", "revoked"]);
    const rest = await listBulkActionItems({ actor: as("reviewer2"), query: { id: bulk.id, after: String(items.nextCursor) } });
    expect(rest.items).toHaveLength(1);
    expect(rest.nextCursor).toBeNull();
  });

  it("previews chosen accessors, counting those the action does not apply to apart", async () => {
    const { owner, live } = await ownerWith(2, { revoked: 1 });
    const revoked = await prisma().handle.findFirstOrThrow({ where: { principalId: owner.id, revokedAt: { not: null } } });
    const accessors = [...live.map((h) => h.accessor), revoked.accessor, `hdl_${"0".repeat(20)}`];
    const preview = await previewBulkAction({ actor: as("admin"), data: { kind: "revoke", selection: { type: "accessors", accessors } } });
    expect(preview).toMatchObject({ count: 2, notApplicable: 2, selection: { type: "accessors", accessors: 4 } });
    const bulk = await createBulkAction({
      actor: as("admin"),
      data: { kind: "revoke", selection: { type: "accessors", accessors }, reason: "leaked keys", expectedCount: 2, fingerprint: preview.fingerprint, asOf: preview.asOf },
    });
    expect(new Set(await itemHandleIds(bulk.id))).toEqual(new Set(live.map((h) => h.id)));
  });

  it("refuses with 409 and a fresh preview when the set changed since the preview, writing nothing", async () => {
    const { owner, live } = await ownerWith(3);
    const reviewer = as("reviewer");
    const preview = await previewBulkAction({ actor: reviewer, data: { kind: "revoke", selection: byOwner(owner.id) } });
    expect(preview.count).toBe(3);
    await revokeHandle({ actor: as("admin"), data: { accessor: live[0]!.accessor, reason: "revoked by hand meanwhile" } });
    const changed = await expectAppError(request(reviewer, preview), "CONFLICT");
    expect(changed.message).toMatch(/now has 2 handles, not 3/);
    expect((changed.details?.preview as TBulkPreview).count).toBe(2);

    // Same size, other handles: one more revoked, one older handle that had been missed appears.
    const second = await previewBulkAction({ actor: reviewer, data: { kind: "revoke", selection: byOwner(owner.id) } });
    await revokeHandle({ actor: as("admin"), data: { accessor: live[1]!.accessor, reason: "revoked by hand meanwhile" } });
    await insertHandle(prisma(), { serverId: server.id, principalId: owner.id, createdAt: new Date(Date.now() - 3_600_000), expiresAt: new Date(Date.now() + 3_600_000) });
    const swapped = await expectAppError(request(reviewer, second), "CONFLICT");
    expect(swapped.message).toMatch(/not the same ones/);
    expect(await prisma().bulkAction.count({ where: { requestedById: reviewer.id, selection: { equals: { type: "filter", filter: { owner: [owner.id] } } } } })).toBe(0);
  });

  it("validates input: 422 for a bad body or reason, 400 for a bad filter, 422 for an empty set", async () => {
    const reviewer = as("reviewer");
    await expectAppError(previewBulkAction({ actor: reviewer, data: { kind: "delete", selection: byOwner(randomUUID()) } }), "INVALID_INPUT");
    await expectAppError(previewBulkAction({ actor: reviewer, data: { kind: "revoke", selection: { type: "accessors", accessors: [] } } }), "INVALID_INPUT");
    await expectAppError(previewBulkAction({ actor: reviewer, data: { kind: "revoke", selection: { type: "accessors", accessors: ["tht_secret"] } } }), "INVALID_INPUT");
    const badFilter = await expectAppError(previewBulkAction({ actor: reviewer, data: { kind: "revoke", selection: { type: "filter", filter: "status=sleeping" } } }), "BAD_REQUEST");
    expect(badFilter.issues?.[0]?.path).toBe("status");
    await expectAppError(previewBulkAction({ actor: reviewer, data: { kind: "revoke", selection: { type: "filter", filter: "colour=red" } } }), "BAD_REQUEST");
    const { owner } = await ownerWith(1);
    const preview = await previewBulkAction({ actor: reviewer, data: { kind: "revoke", selection: byOwner(owner.id) } });
    const noReason = await expectAppError(request(reviewer, preview, " "), "INVALID_INPUT");
    expect(noReason.issues?.map((i) => i.path)).toEqual(["reason"]);
    await expectAppError(request(reviewer, preview, "x".repeat(501)), "INVALID_INPUT");
    const nobody = await createPrincipal(prisma(), { kind: "service" });
    const empty = await previewBulkAction({ actor: reviewer, data: { kind: "revoke", selection: byOwner(nobody.id) } });
    expect(empty.count).toBe(0);
    await expectAppError(request(reviewer, empty), "INVALID_INPUT");
  });

  it("refuses every step to viewers, auditors and support (403), and a bulk cancel to support", async () => {
    const { owner } = await ownerWith(1);
    const preview = await previewBulkAction({ actor: as("admin"), data: { kind: "revoke", selection: byOwner(owner.id) } });
    const bulk = await request(as("admin"), preview);
    for (const role of ["viewer", "auditor", "support"] as const) {
      await expectAppError(previewBulkAction({ actor: as(role), data: { kind: "revoke", selection: byOwner(owner.id) } }), "FORBIDDEN");
      await expectAppError(previewBulkAction({ actor: as(role), data: { kind: "cancel", selection: byOwner(owner.id) } }), "FORBIDDEN");
      await expectAppError(request(as(role), preview), "FORBIDDEN");
      await expectAppError(getBulkAction({ actor: as(role), id: bulk.id }), "FORBIDDEN");
      await expectAppError(approveBulkAction({ actor: as(role), id: bulk.id }), "FORBIDDEN");
      await expectAppError(cancelBulkAction({ actor: as(role), data: { id: bulk.id, reason: "not mine" } }), "FORBIDDEN");
      await expectAppError(listBulkActions({ actor: as(role) }), "FORBIDDEN");
    }
    await expectAppError(getBulkAction({ actor: as("reviewer"), id: randomUUID() }), "NOT_FOUND");
    await expectAppError(getBulkAction({ actor: as("reviewer"), id: "not-an-id" }), "INVALID_INPUT");
  });
});

describe("the two-person rule", () => {
  it("holds a set above the threshold for a second reviewer: the requester cannot approve; another can; then it runs", async () => {
    const { owner, live } = await ownerWith(6);
    const requester = as("reviewer");
    const preview = await previewBulkAction({ actor: requester, data: { kind: "revoke", selection: byOwner(owner.id) } });
    expect(preview).toMatchObject({ count: 6, needsApproval: true });
    const bulk = await request(requester, preview);
    expect(bulk).toMatchObject({ status: "awaiting_approval", needsApproval: true });

    // Not approved: the worker does not touch it.
    expect((await runBulkActions({ jobId: bulk.id })).jobs).toBe(0);
    expect(await prisma().handle.count({ where: { id: { in: live.map((h) => h.id) }, revokedAt: { not: null } } })).toBe(0);

    const own = await expectAppError(approveBulkAction({ actor: { ...requester, request: newRequest() }, id: bulk.id }), "FORBIDDEN");
    expect(own.message).toMatch(/Two-person rule/);
    await expectAppError(rejectBulkAction({ actor: requester, data: { id: bulk.id, reason: "changed my mind" } }), "FORBIDDEN");
    const approver = as("reviewer2");
    const approved = await approveBulkAction({ actor: approver, id: bulk.id });
    expect(approved).toMatchObject({ status: "approved", approvedBy: { id: approver.id } });
    const event = (await bulkEvents(bulk.id)).find((e) => e.action === "bulk.approved");
    expect(event).toMatchObject({ actorId: approver.id, payload: { count: 6, requestedBy: requester.id } });
    await expectAppError(approveBulkAction({ actor: as("admin"), id: bulk.id }), "INVALID_STATE");

    await runBulkActions({ jobId: bulk.id });
    expect(await getBulkAction({ actor: requester, id: bulk.id })).toMatchObject({ status: "completed", progress: { done: 6 } });
    expect(await prisma().handle.count({ where: { id: { in: live.map((h) => h.id) }, revokeTrigger: "bulk" } })).toBe(6);
  });

  it("lets another reviewer reject (it never runs), and the requester withdraw by cancelling", async () => {
    const { owner, live } = await ownerWith(6);
    const requester = as("admin");
    const preview = await previewBulkAction({ actor: requester, data: { kind: "revoke", selection: byOwner(owner.id) } });
    const rejected = await request(requester, preview);
    const after = await rejectBulkAction({ actor: as("reviewer"), data: { id: rejected.id, reason: "too broad, narrow it to the session" } });
    expect(after).toMatchObject({ status: "rejected", closeReason: "too broad, narrow it to the session" });
    await expectAppError(approveBulkAction({ actor: as("reviewer2"), id: rejected.id }), "INVALID_STATE");
    expect((await runBulkActions({ jobId: rejected.id })).jobs).toBe(0);
    expect((await bulkEvents(rejected.id)).map((e) => e.action)).toEqual(["bulk.requested", "bulk.rejected"]);

    const withdrawn = await request(requester, await previewBulkAction({ actor: requester, data: { kind: "revoke", selection: byOwner(owner.id) } }));
    expect((await cancelBulkAction({ actor: requester, data: { id: withdrawn.id, reason: "withdrawn" } })).status).toBe("cancelled");
    expect(await prisma().handle.count({ where: { id: { in: live.map((h) => h.id) }, revokedAt: { not: null } } })).toBe(0);
  });
});

describe("the worker", () => {
  it("resumes after its runner dies, mid-chunk or between chunks: every handle revoked exactly once, one event each", async () => {
    const { owner, live } = await ownerWith(25);
    await setThreshold(100, async () => {
      const bulk = await request(as("reviewer"), await previewBulkAction({ actor: as("reviewer"), data: { kind: "revoke", selection: byOwner(owner.id) } }));
      expect(bulk.status).toBe("approved");

      // Runner A commits one chunk of 10 and dies holding the lease.
      expect(await runBulkActions({ jobId: bulk.id, chunkSize: 10, maxChunks: 1, owner: "runner-a" })).toMatchObject({ jobs: 1, chunks: 1, items: 10 });
      expect(await getBulkAction({ actor: as("admin"), id: bulk.id })).toMatchObject({ status: "running", progress: { processed: 10, done: 10 } });
      // While its lease holds, nobody else takes the job.
      expect((await runBulkActions({ jobId: bulk.id, chunkSize: 10 })).jobs).toBe(0);

      // The lease runs out. Runner B takes over and dies in the middle of its first chunk: it
      // had revoked ten more handles and written their events, but never committed.
      await dropLease(bulk.id);
      await expect(
        runBulkActions({
          jobId: bulk.id,
          chunkSize: 10,
          owner: "runner-b",
          hooks: {
            beforeCommit: () => {
              throw new Error("simulated crash");
            },
          },
        }),
      ).rejects.toThrow("simulated crash");
      expect(await prisma().handle.count({ where: { id: { in: live.map((h) => h.id) }, revokedAt: { not: null } } })).toBe(10);

      // Runner C finishes the job from the first unprocessed item.
      await dropLease(bulk.id);
      expect(await runBulkActions({ jobId: bulk.id, chunkSize: 10, owner: "runner-c" })).toMatchObject({ jobs: 1, items: 15 });
      const done = await getBulkAction({ actor: as("admin"), id: bulk.id });
      expect(done).toMatchObject({ status: "completed", progress: { total: 25, processed: 25, done: 25, skipped: 0 } });
      expect(done.results).toEqual([{ result: "revoked", cancelOutcome: null, count: 25 }]);
      const events = await prisma().auditEvent.findMany({ where: { targetId: { in: live.map((h) => h.id) }, action: "handle.revoked" } });
      expect(events).toHaveLength(25);
      expect(new Set(events.map((e) => e.targetId)).size).toBe(25);
      expect((await bulkEvents(bulk.id)).map((e) => e.action)).toEqual(["bulk.requested", "bulk.started", "bulk.completed"]);
    });
  });

  it("stops a running job at the next chunk when it is cancelled; what was done stays done", async () => {
    const { owner, live } = await ownerWith(25);
    await setThreshold(100, async () => {
      const bulk = await request(as("reviewer"), await previewBulkAction({ actor: as("reviewer"), data: { kind: "revoke", selection: byOwner(owner.id) } }));
      await runBulkActions({ jobId: bulk.id, chunkSize: 10, maxChunks: 1 });
      const cancelled = await cancelBulkAction({ actor: as("reviewer2"), data: { id: bulk.id, reason: "wrong session" } });
      expect(cancelled).toMatchObject({ status: "cancelled", closedBy: { id: people.reviewer2.id }, progress: { processed: 10 } });
      expect(cancelled.results).toEqual([
        { result: "revoked", cancelOutcome: null, count: 10 },
        { result: "pending", cancelOutcome: null, count: 15 },
      ]);
      await dropLease(bulk.id);
      expect((await runBulkActions({ jobId: bulk.id })).jobs).toBe(0);
      expect(await prisma().handle.count({ where: { id: { in: live.map((h) => h.id) }, revokedAt: { not: null } } })).toBe(10);
      expect((await bulkEvents(bulk.id)).at(-1)).toMatchObject({ action: "bulk.cancelled", payload: { processed: 10, from: "running" } });
      await expectAppError(cancelBulkAction({ actor: as("reviewer"), data: { id: bulk.id, reason: "again" } }), "INVALID_STATE");
    });
  });

  it("records a handle revoked by hand meanwhile as already revoked, not twice", async () => {
    const { owner, live } = await ownerWith(3);
    const bulk = await request(as("reviewer"), await previewBulkAction({ actor: as("reviewer"), data: { kind: "revoke", selection: byOwner(owner.id) } }));
    await revokeHandle({ actor: as("admin"), data: { accessor: live[1]!.accessor, reason: "by hand" } });
    await runBulkActions({ jobId: bulk.id });
    const done = await getBulkAction({ actor: as("admin"), id: bulk.id });
    expect(done.progress).toMatchObject({ done: 2, skipped: 1 });
    expect(await prisma().auditEvent.count({ where: { targetId: live[1]!.id, action: "handle.revoked" } })).toBe(1);
    const items = await listBulkActionItems({ actor: as("admin"), query: { id: bulk.id, result: "already_revoked" } });
    expect(items.items.map((i) => i.accessor)).toEqual([live[1]!.accessor]);
  });
});

describe("the audit trail", () => {
  it("seals and verifies the events a bulk job writes many at a time, like any other", async () => {
    const { owner } = await ownerWith(30);
    const bulk = await request(as("reviewer"), await previewBulkAction({ actor: as("reviewer"), data: { kind: "revoke", selection: byOwner(owner.id) } }));
    await approveBulkAction({ actor: as("reviewer2"), id: bulk.id });
    expect(await runBulkActions({ jobId: bulk.id, chunkSize: 7 })).toMatchObject({ jobs: 1, items: 30 });
    const signingKey = getAuditSigningKey();
    const deadline = Date.now() + 30_000;
    for (;;) {
      if ((await sealAuditChain(getPool(), { signingKey, checkpointEvery: 10, checkpointSeconds: 3600 })).sealed > 0) continue;
      const [row] = await prisma().$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM audit_event e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_seq = e.seq)`;
      if (row!.n === 0) break;
      if (Date.now() > deadline) throw new Error(`${row!.n} events still unsealed`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const verified = await verifyAuditChain(getPool(), { publicKeys: [signingKey.publicKeyPem] });
    expect(verified).toMatchObject({ ok: true, failure: null });
    // One handle.revoked per item, no more, no fewer (within a chunk the sequence numbers of a
    // multi-row INSERT … SELECT need not follow the items' order).
    const events = await prisma().$queryRaw<Array<{ targetId: string }>>`
      SELECT target_id AS "targetId" FROM audit_event WHERE action = 'handle.revoked' AND payload->>'bulkActionId' = ${bulk.id} ORDER BY seq`;
    const order = await prisma().bulkActionItem.findMany({ where: { bulkActionId: bulk.id }, orderBy: { ordinal: "asc" }, select: { handleId: true } });
    expect(events.map((e) => e.targetId).sort()).toEqual(order.map((o) => o.handleId).sort());
  });
});

describe("at the gateway", () => {
  async function mint(tool: string, args: Record<string, unknown>) {
    const connected = await connectAgent(agent, server.slug);
    open.push(connected);
    const task = await createTask(connected.client, tool, args, { ttl: 300_000 });
    const handle = await prisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(task.taskId) } });
    return { client: connected.client, token: task.taskId, handle };
  }

  it("refuses a bulk-revoked handle at its very next call", async () => {
    const minted = [await mint("long_task", { seconds: 60 }), await mint("long_task", { seconds: 60 }), await mint("long_task", { seconds: 60 })];
    // Each handle works (and the gateway has its rows in memory).
    for (const m of minted) expect((await m.client.experimental.tasks.getTask(m.token)).status).toBe("working");
    const accessors = minted.map((m) => m.handle.accessor);
    const reviewer = as("reviewer");
    const preview = await previewBulkAction({ actor: reviewer, data: { kind: "revoke", selection: { type: "accessors", accessors } } });
    const bulk = await createBulkAction({
      actor: reviewer,
      data: { kind: "revoke", selection: { type: "accessors", accessors }, reason: "compromised agent", expectedCount: preview.count, fingerprint: preview.fingerprint },
    });
    // The gateway judges from memory here (its LISTEN connection is up), so this is about the cache too.
    expect(gatewayCache()?.readEpoch()).not.toBeNull();
    const order = await itemHandleIds(bulk.id);
    const checked: number[] = [];
    // One handle per chunk: right after each commit, that handle is refused and the later ones still work.
    await runBulkActions({
      jobId: bulk.id,
      chunkSize: 1,
      hooks: {
        afterCommit: async ({ ordinals }) => {
          const ordinal = ordinals[0]!;
          const now = minted.find((m) => m.handle.id === order[ordinal - 1])!;
          expect(await refused(now.client.experimental.tasks.getTask(now.token))).toBe(true);
          for (const later of order.slice(ordinal)) {
            const m = minted.find((x) => x.handle.id === later)!;
            expect((await m.client.experimental.tasks.getTask(m.token)).status).toBe("working");
          }
          checked.push(ordinal);
        },
      },
    });
    expect(checked).toEqual([1, 2, 3]);
    for (const m of minted) {
      await expect(m.client.experimental.tasks.getTask(m.token)).rejects.toBeInstanceOf(McpError);
      const denial = await prisma().auditEvent.findFirst({ where: { targetId: m.handle.id, action: "handle.denied" } });
      expect(denial?.payload).toMatchObject({ cause: "revoked" });
    }
    for (const m of minted) expect(logs.text()).not.toContain(m.token);
  });

  it("bulk-cancels running tasks upstream through the cancel machinery, and records what each came to", async () => {
    const queued = [await mint("queued_task", { queueSeconds: 120, seconds: 1 }), await mint("queued_task", { queueSeconds: 120, seconds: 1 })];
    const ended = await mint("queued_task", { queueSeconds: 120, seconds: 1 });
    const accessors = [...queued, ended].map((m) => m.handle.accessor);
    const reviewer = as("reviewer");
    await expectAppError(previewBulkAction({ actor: as("support"), data: { kind: "cancel", selection: { type: "accessors", accessors } } }), "FORBIDDEN");
    const preview = await previewBulkAction({ actor: reviewer, data: { kind: "cancel", selection: { type: "accessors", accessors } } });
    expect(preview.count).toBe(3);
    const bulk = await createBulkAction({
      actor: reviewer,
      data: { kind: "cancel", selection: { type: "accessors", accessors }, reason: "customer withdrew", expectedCount: 3, fingerprint: preview.fingerprint, asOf: preview.asOf },
    });
    // The third task ends before the job runs: it is not cancellable any more.
    await prisma().handle.update({ where: { id: ended.handle.id }, data: { status: "completed" } });
    await runBulkActions({ jobId: bulk.id });
    const done = await getBulkAction({ actor: reviewer, id: bulk.id });
    expect(done).toMatchObject({ status: "completed", kind: "cancel", progress: { total: 3, processed: 3, done: 2, skipped: 1 } });
    expect(done.results).toEqual([
      { result: "not_cancellable", cancelOutcome: null, count: 1 },
      { result: "cancelled", cancelOutcome: "confirmed", count: 2 },
    ]);
    for (const m of queued) {
      const row = await prisma().handle.findUniqueOrThrow({ where: { id: m.handle.id } });
      expect(row).toMatchObject({ status: "cancelled", cancelState: "confirmed", revokeTrigger: "cancel", revokedById: reviewer.id, revokeReason: "customer withdrew" });
      const trail = (await prisma().auditEvent.findMany({ where: { targetId: m.handle.id }, orderBy: { seq: "asc" } })).map((e) => e.action);
      expect(trail).toEqual(["handle.issued", "handle.cancel_requested", "handle.status_changed", "handle.cancel_outcome", "handle.revoked"]);
      await expect(m.client.experimental.tasks.getTask(m.token)).rejects.toBeInstanceOf(McpError);
    }
    expect((await prisma().handle.findUniqueOrThrow({ where: { id: ended.handle.id } })).revokedAt).toBeNull();
  });
});

describe("REST /api/v1/bulk", () => {
  const BASE = "http://tether.test";
  const keys = {} as Record<"viewer" | "reviewer" | "reviewer2", { key: string; id: string }>;

  beforeAll(async () => {
    for (const who of ["viewer", "reviewer", "reviewer2"] as const) {
      const account = await createServiceAccount({ actor: people.admin, data: { name: `bulk-rest-${who}-${randomUUID().slice(0, 6)}`, role: who === "reviewer2" ? "reviewer" : who } });
      keys[who] = { key: (await createApiKey({ actor: people.admin, data: { principalId: account.id, name: "rest", expiresInDays: 1 } })).key, id: account.id };
    }
  });

  function call(path: string, key: string, init: { method?: string; body?: unknown; raw?: string; contentType?: string } = {}) {
    const headers = new Headers({ authorization: `Bearer ${key}` });
    const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
    if (body !== undefined) headers.set("content-type", init.contentType ?? "application/json");
    return new NextRequest(`${BASE}${path}`, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, ...(body === undefined ? {} : { body }) });
  }
  const params = (id: string) => ({ params: Promise.resolve({ id }) });
  const none = { params: Promise.resolve({}) } as never;

  it("previews, requests (201), refuses a changed set with 409 and the new preview, approves with a second key, and reports progress and items", async () => {
    const { owner, live } = await ownerWith(7);
    const selection = { type: "filter", filter: { owner: owner.id } };
    const previewed = await previewRoute(call("/api/v1/bulk/preview", keys.reviewer.key, { body: { kind: "revoke", selection } }), none);
    expect(previewed.status).toBe(200);
    const preview = (await previewed.json()) as TBulkPreview;
    expect(preview).toMatchObject({ count: 7, needsApproval: true });

    const stale = await createRoute(call("/api/v1/bulk", keys.reviewer.key, { body: { kind: "revoke", selection, reason: "rotate", expectedCount: 8 } }), none);
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ error: { code: "CONFLICT", preview: { count: 7 } } });

    const created = await createRoute(
      call("/api/v1/bulk", keys.reviewer.key, { body: { kind: "revoke", selection, reason: "rotate", expectedCount: 7, fingerprint: preview.fingerprint, asOf: preview.asOf } }),
      none,
    );
    expect(created.status).toBe(201);
    const bulk = (await created.json()) as { id: string; status: string };
    expect(bulk.status).toBe("awaiting_approval");

    const own = await approveRoute(call(`/api/v1/bulk/${bulk.id}/approve`, keys.reviewer.key, { method: "POST" }), params(bulk.id));
    expect(own.status).toBe(403);
    const viewer = await approveRoute(call(`/api/v1/bulk/${bulk.id}/approve`, keys.viewer.key, { method: "POST" }), params(bulk.id));
    expect(viewer.status).toBe(403);
    const ok = await approveRoute(call(`/api/v1/bulk/${bulk.id}/approve`, keys.reviewer2.key, { method: "POST" }), params(bulk.id));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: "approved", approvedBy: { id: keys.reviewer2.id } });
    const twice = await approveRoute(call(`/api/v1/bulk/${bulk.id}/approve`, keys.reviewer2.key, { method: "POST" }), params(bulk.id));
    expect(twice.status).toBe(409);
    expect(await twice.json()).toMatchObject({ error: { code: "INVALID_STATE", status: "approved" } });

    await runBulkActions({ jobId: bulk.id });
    const status = await getBulkRoute(call(`/api/v1/bulk/${bulk.id}`, keys.reviewer2.key), params(bulk.id));
    expect(await status.json()).toMatchObject({ status: "completed", progress: { total: 7, done: 7 } });
    const items = await itemsRoute(call(`/api/v1/bulk/${bulk.id}/items?limit=5`, keys.reviewer.key), params(bulk.id));
    const page = (await items.json()) as { items: Array<{ accessor: string; result: string }>; nextCursor: number };
    expect(page.items).toHaveLength(5);
    expect(page.nextCursor).toBe(5);
    expect(live.map((h) => h.accessor)).toEqual(expect.arrayContaining(page.items.map((i) => i.accessor)));
    const listed = await listRoute(call("/api/v1/bulk?status=completed", keys.reviewer.key), none);
    expect(((await listed.json()) as { data: Array<{ id: string }> }).data.map((b) => b.id)).toContain(bulk.id);
  });

  it("answers bad input with a clear 4xx, never a 500", async () => {
    const k = keys.reviewer.key;
    expect((await previewRoute(call("/api/v1/bulk/preview", k, { raw: "{nope" }), none)).status).toBe(422);
    expect((await previewRoute(call("/api/v1/bulk/preview", k, { raw: "kind=revoke", contentType: "text/plain" }), none)).status).toBe(415);
    const unknownKey = await previewRoute(call("/api/v1/bulk/preview", k, { body: { kind: "revoke", selection: { type: "filter", filter: {} }, extra: 1 } }), none);
    expect(unknownKey.status).toBe(422);
    const badFilter = await previewRoute(call("/api/v1/bulk/preview", k, { body: { kind: "revoke", selection: { type: "filter", filter: "limit=5&state=zombie" } } }), none);
    expect(badFilter.status).toBe(400);
    expect(await badFilter.json()).toMatchObject({ error: { code: "BAD_REQUEST", issues: [{ path: "state" }] } });
    const noCount = await createRoute(call("/api/v1/bulk", k, { body: { kind: "revoke", selection: { type: "filter", filter: {} }, reason: "why not" } }), none);
    expect(noCount.status).toBe(422);
    expect(((await noCount.json()) as { error: { issues: Array<{ path: string }> } }).error.issues.map((i) => i.path)).toEqual(["expectedCount"]);
    expect((await getBulkRoute(call(`/api/v1/bulk/${randomUUID()}`, k), params(randomUUID()))).status).toBe(404);
    expect((await getBulkRoute(call("/api/v1/bulk/x", k), params("x"))).status).toBe(422);
    expect((await itemsRoute(call(`/api/v1/bulk/${randomUUID()}/items?limit=9999`, k), params(randomUUID()))).status).toBe(422);
    expect((await listRoute(call("/api/v1/bulk?status=sleeping", k), none)).status).toBe(422);
    expect((await getBulkRoute(call(`/api/v1/bulk/${randomUUID()}`, "tth_00000000_nope"), params(randomUUID()))).status).toBe(401);
  });
});

const refused = (call: Promise<unknown>) =>
  call.then(
    () => false,
    (e: unknown) => e instanceof McpError && e.code === -32602,
  );

async function dropLease(id: string) {
  await prisma().$executeRaw`UPDATE bulk_action SET lease_until = now() - interval '1 second' WHERE id = ${id}::uuid`;
}

async function setThreshold(value: number, run: () => Promise<void>) {
  const { resetEnvCache } = await import("@/lib/env");
  const previous = process.env.TETHER_BULK_APPROVAL_THRESHOLD;
  process.env.TETHER_BULK_APPROVAL_THRESHOLD = String(value);
  resetEnvCache();
  try {
    await run();
  } finally {
    process.env.TETHER_BULK_APPROVAL_THRESHOLD = previous;
    resetEnvCache();
  }
}
