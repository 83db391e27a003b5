// The handle inventory on the real database: every filter and preset narrows in the database,
// keyset pages are complete and stable in every sort order, bad input is a 400 (never a 500),
// facets follow the faceting rule, saved views are private to their owner, and the CSV export is
// audited and carries no secret column. Every test works on a server of its own (the run's
// database is shared with other files), so other handles never change what a test sees.
import { randomUUID } from "node:crypto";
import { NextRequest } from "next/server";
import { afterAll, describe, expect, it } from "vitest";
import { DELETE as deleteViewRoute } from "@/app/api/v1/handle-views/[id]/route";
import { GET as listViewsRoute, POST as saveViewRoute } from "@/app/api/v1/handle-views/route";
import { GET as exportRoute } from "@/app/api/v1/handles/export/route";
import { GET as listRoute } from "@/app/api/v1/handles/route";
import { createApiKey } from "@/lib/api-keys/create-api-key";
import { systemActor, type TActor } from "@/lib/auth/actor";
import { ROLES, type TRole } from "@/lib/auth/permissions";
import { getPrisma } from "@/lib/db/client";
import { countHandleFacets } from "@/lib/handles/count-handle-facets";
import { deleteSavedView } from "@/lib/handles/delete-saved-view";
import { decodeHandleCursor, encodeHandleCursor, parseHandleFilterLenient } from "@/lib/handles/handle-filter-schema";
import type { THandleListItem } from "@/lib/handles/handle-list-dto";
import { listHandles } from "@/lib/handles/list-handles";
import { listSavedViews } from "@/lib/handles/list-saved-views";
import { saveSavedView } from "@/lib/handles/save-saved-view";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { insertHandle } from "../factories/handles";
import { actorFor, createPrincipal, userActor } from "../factories/principals";
import { auditEventsOfRequest } from "./support/audit";
import { setUpTestSecrets } from "./support/env";
import { expectAppError, issuePaths } from "./support/errors";

setUpTestSecrets();

const prisma = getPrisma();
const MIN = 60_000;
const HOUR = 60 * MIN;

afterAll(async () => {
  await prisma.$disconnect();
});

// ---- fixtures -----------------------------------------------------------------------------

async function newServer(overrides: { enabled?: boolean; removed?: boolean } = {}) {
  const slug = `inv-${randomUUID().slice(0, 8)}`;
  return prisma.mcpServer.create({
    data: {
      slug,
      name: `Inventory ${slug}`,
      url: "http://127.0.0.1:9/mcp",
      audience: `http://tether.test/mcp/${slug}`,
      enabled: overrides.enabled ?? true,
      removedAt: overrides.removed ? new Date() : null,
    },
  });
}

const newAgent = (overrides: { disabled?: boolean } = {}) => createPrincipal(prisma, { kind: "service", email: null, role: "viewer", disabled: overrides.disabled ?? false });

async function newSession(principalId: string, serverId: string, ended = false) {
  return prisma.gatewaySession.create({ data: { sessionHash: `sh-${randomUUID()}`, principalId, serverId, endedAt: ended ? new Date() : null } });
}

type THandleSpec = Parameters<typeof insertHandle>[1] & {
  sessionId?: string;
  toolName?: string;
  lastUsedAt?: Date | null;
  useCount?: number;
  cancelState?: "none" | "requested" | "confirmed";
  expiredAt?: Date;
  wire?: "core_2025_11_25" | "ext_2026_07_28";
};

/** A handle row (factory) with the inventory's other columns set afterwards. */
async function handle(spec: THandleSpec) {
  const { sessionId, toolName, lastUsedAt, useCount, cancelState, expiredAt, wire, ...base } = spec;
  const row = await insertHandle(prisma, base);
  return prisma.handle.update({
    where: { id: row.id },
    data: {
      ...(sessionId ? { sessionId } : {}),
      ...(toolName ? { toolName } : {}),
      ...(lastUsedAt !== undefined ? { lastUsedAt } : {}),
      ...(useCount !== undefined ? { useCount } : {}),
      ...(cancelState ? { cancelState } : {}),
      ...(expiredAt ? { expiredAt } : {}),
      ...(wire ? { wire } : {}),
    },
  });
}

const ago = (ms: number) => new Date(Date.now() - ms);
const ahead = (ms: number) => new Date(Date.now() + ms);
const accessors = (items: Array<{ accessor: string }>) => items.map((h) => h.accessor);
const viewer = () => userActor("viewer");

async function list(actor: TActor, filter: Record<string, string | string[]>) {
  return listHandles({ actor, filter });
}

/** Every page of a filter, following nextCursor. */
async function walk(filter: Record<string, string | string[]>, limit: number) {
  const pages: THandleListItem[][] = [];
  let cursor: string | null = null;
  do {
    const page = await list(viewer(), { ...filter, limit: String(limit), ...(cursor ? { cursor } : {}) });
    pages.push(page.data);
    cursor = page.nextCursor;
    if (pages.length > 100) throw new Error("pagination does not end");
  } while (cursor);
  return pages;
}

// ---- listing --------------------------------------------------------------------------------

describe("listHandles", () => {
  for (const role of ROLES) {
    it(`lets a ${role} list, newest first, with the binding and without secret columns`, async () => {
      const server = await newServer();
      const owner = await newAgent();
      const session = await newSession(owner.id, server.id);
      const older = await handle({ serverId: server.id, principalId: owner.id, createdAt: ago(30 * MIN), sessionId: session.id, lastUsedAt: ago(MIN), useCount: 4 });
      const newer = await handle({ serverId: server.id, principalId: owner.id, createdAt: ago(10 * MIN) });

      const page = await list(userActor(role as TRole), { server: server.slug });

      expect(accessors(page.data)).toEqual([newer.accessor, older.accessor]);
      expect(page.nextCursor).toBeNull();
      expect(page.prevCursor).toBeNull();
      expect(page.data[1]).toEqual({
        id: older.id,
        accessor: older.accessor,
        server: { id: server.id, slug: server.slug, name: server.name, enabled: true, removed: false },
        audience: older.audience,
        owner: { id: owner.id, name: owner.name, kind: "service", disabled: false },
        session: { id: session.id, ended: false },
        toolName: "simulate-research-query",
        wire: "core_2025_11_25",
        status: "working",
        statusMessage: null,
        state: "live",
        createdAt: older.createdAt.toISOString(),
        expiresAt: older.expiresAt.toISOString(),
        lastUsedAt: older.lastUsedAt!.toISOString(),
        useCount: 4,
        effectiveTtlMs: older.effectiveTtlMs,
        policyVersion: 1,
        revokedAt: null,
        revokeTrigger: null,
        revokeReason: null,
        cancelState: "none",
      });
      const text = JSON.stringify(page);
      for (const secret of [older.tokenHash, older.tokenEnc, older.upstreamTaskIdHash, newer.tokenHash, newer.upstreamTaskIdHash]) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/token|upstreamTask/i);
    });
  }

  it("narrows by every filter, in the database", async () => {
    const server = await newServer();
    const [alice, bob] = [await newAgent(), await newAgent()];
    const session = await newSession(alice.id, server.id);
    const base = { serverId: server.id };
    const working = await handle({ ...base, principalId: alice.id, createdAt: ago(50 * MIN), expiresAt: ahead(2 * HOUR), sessionId: session.id, toolName: "crunch" });
    const failed = await handle({ ...base, principalId: bob.id, status: "failed", createdAt: ago(40 * MIN), wire: "ext_2026_07_28", policyVersion: 2 });
    const revoked = await handle({ ...base, principalId: alice.id, createdAt: ago(30 * MIN), revokedAt: ago(MIN), cancelState: "confirmed" });
    const expired = await handle({ ...base, principalId: bob.id, createdAt: ago(3 * HOUR), expiresAt: ago(2 * HOUR), expiredAt: ago(2 * HOUR) });
    const clock = await handle({ ...base, principalId: bob.id, createdAt: ago(2 * HOUR), expiresAt: ago(MIN) }); // past expiry, not yet swept
    const s = { server: server.slug };
    const got = async (f: Record<string, string | string[]>) => accessors((await list(viewer(), { ...s, ...f })).data).sort();
    const want = (...rows: Array<{ accessor: string }>) => accessors(rows).sort();

    expect(await got({ status: ["working", "failed"] })).toEqual(want(working, failed, revoked, expired, clock));
    expect(await got({ status: "failed" })).toEqual(want(failed));
    expect(await got({ owner: alice.id })).toEqual(want(working, revoked));
    expect(await got({ owner: [alice.id, bob.id].join(",") })).toEqual(want(working, failed, revoked, expired, clock));
    expect(await got({ session: session.id })).toEqual(want(working));
    expect(await got({ tool: "crunch" })).toEqual(want(working));
    expect(await got({ accessor: working.accessor.slice(0, 14) })).toEqual(want(working));
    expect(await got({ accessor: working.accessor.toUpperCase() })).toEqual(want(working));
    expect(await got({ createdFrom: ago(45 * MIN).toISOString(), createdTo: ago(20 * MIN).toISOString() })).toEqual(want(failed, revoked));
    expect(await got({ expiresFrom: ahead(90 * MIN).toISOString() })).toEqual(want(working));
    expect(await got({ state: "live" })).toEqual(want(working, failed));
    expect(await got({ state: "revoked" })).toEqual(want(revoked));
    expect(await got({ state: "expired" })).toEqual(want(expired, clock));
    expect(await got({ state: ["revoked", "expired"] })).toEqual(want(revoked, expired, clock));
    expect(await got({ cancel: "confirmed" })).toEqual(want(revoked));
    expect(await got({ policy: "2" })).toEqual(want(failed));
    expect(await got({ wire: "ext_2026_07_28" })).toEqual(want(failed));
    // Filters combine with AND.
    expect(await got({ owner: bob.id, state: "expired", status: "working" })).toEqual(want(expired, clock));
    // A server that does not exist matches nothing (it is not an error).
    expect((await list(viewer(), { server: "no-such-server" })).data).toEqual([]);

    const rows = (await list(viewer(), s)).data;
    expect(rows.find((r) => r.accessor === revoked.accessor)).toMatchObject({ state: "revoked", revokeTrigger: "manual", revokeReason: "earlier", cancelState: "confirmed" });
    expect(rows.find((r) => r.accessor === clock.accessor)?.state).toBe("expired");
  });
});

// ---- presets --------------------------------------------------------------------------------

describe("presets", () => {
  it("live and expiring within 1 h (soonest first)", async () => {
    const server = await newServer();
    const owner = await newAgent();
    const base = { serverId: server.id, principalId: owner.id };
    const soon = await handle({ ...base, createdAt: ago(50 * MIN), expiresAt: ahead(10 * MIN) });
    const sooner = await handle({ ...base, createdAt: ago(20 * MIN), expiresAt: ahead(5 * MIN) });
    const later = await handle({ ...base, createdAt: ago(5 * MIN), expiresAt: ahead(3 * HOUR) });
    await handle({ ...base, createdAt: ago(30 * MIN), expiresAt: ahead(20 * MIN), revokedAt: ago(MIN) });
    await handle({ ...base, createdAt: ago(2 * HOUR), expiresAt: ago(HOUR), expiredAt: ago(HOUR) });

    expect(accessors((await list(viewer(), { preset: "live", server: server.slug })).data)).toEqual(accessors([later, sooner, soon]));
    expect(accessors((await list(viewer(), { preset: "expiring", server: server.slug })).data)).toEqual(accessors([sooner, soon]));
  });

  it("orphaned: live handles whose owner is disabled or whose server is removed or disabled", async () => {
    const [healthy, disabledServer, removedServer] = [await newServer(), await newServer({ enabled: false }), await newServer({ removed: true })];
    const [owner, gone] = [await newAgent(), await newAgent({ disabled: true })];
    const ownerGone = await handle({ serverId: healthy.id, principalId: gone.id });
    await handle({ serverId: healthy.id, principalId: owner.id });
    await handle({ serverId: healthy.id, principalId: gone.id, revokedAt: ago(MIN) });
    const onDisabled = await handle({ serverId: disabledServer.id, principalId: owner.id });
    const onRemoved = await handle({ serverId: removedServer.id, principalId: owner.id });
    await handle({ serverId: removedServer.id, principalId: owner.id, createdAt: ago(3 * HOUR), expiresAt: ago(HOUR) });

    const got = await list(viewer(), { preset: "orphaned", server: [healthy.slug, disabledServer.slug, removedServer.slug] });
    expect(accessors(got.data).sort()).toEqual(accessors([ownerGone, onDisabled, onRemoved]).sort());
    expect(got.data.find((h) => h.accessor === onRemoved.accessor)?.server).toMatchObject({ removed: true });
    expect(got.data.find((h) => h.accessor === ownerGone.accessor)?.owner).toMatchObject({ disabled: true });
  });

  it("bound to ended sessions", async () => {
    const server = await newServer();
    const owner = await newAgent();
    const [open, ended] = [await newSession(owner.id, server.id), await newSession(owner.id, server.id, true)];
    await handle({ serverId: server.id, principalId: owner.id, sessionId: open.id });
    const stranded = await handle({ serverId: server.id, principalId: owner.id, sessionId: ended.id });
    await handle({ serverId: server.id, principalId: owner.id, sessionId: ended.id, revokedAt: ago(MIN) });
    await handle({ serverId: server.id, principalId: owner.id });

    const got = await list(viewer(), { preset: "ended_sessions", server: server.slug });
    expect(accessors(got.data)).toEqual([stranded.accessor]);
    expect(got.data[0]!.session).toEqual({ id: ended.id, ended: true });
  });

  it("issued under an old policy", async () => {
    await ensureDefaultPolicy(prisma, systemActor("inventory-test", `req-${randomUUID()}`));
    const current = (await prisma.handlePolicy.findFirstOrThrow({ orderBy: { version: "desc" } })).version;
    const server = await newServer();
    const owner = await newAgent();
    const old = await handle({ serverId: server.id, principalId: owner.id, policyVersion: current - 1 });
    await handle({ serverId: server.id, principalId: owner.id, policyVersion: current });
    await handle({ serverId: server.id, principalId: owner.id, policyVersion: current - 1, revokedAt: ago(MIN) });

    const got = await list(viewer(), { preset: "old_policy", server: server.slug });
    expect(accessors(got.data)).toEqual([old.accessor]);
    expect(got.currentPolicyVersion).toBe(current);
  });
});

// ---- sorting and keyset pagination ----------------------------------------------------------

describe("keyset pagination", () => {
  /** 23 handles with ties on every sort key, so the id tie-break is exercised. */
  async function populated() {
    const server = await newServer();
    const owner = await newAgent();
    const rows = [];
    const t0 = Date.now() - 5 * HOUR;
    for (let i = 0; i < 23; i++) {
      const createdAt = new Date(t0 + Math.floor(i / 3) * MIN); // three handles per instant
      rows.push(
        await handle({
          serverId: server.id,
          principalId: owner.id,
          createdAt,
          expiresAt: new Date(createdAt.getTime() + (i % 4) * HOUR + 6 * HOUR),
          lastUsedAt: i % 5 === 0 ? null : new Date(t0 + (i % 3) * MIN),
          useCount: i % 4,
        }),
      );
    }
    return { server, rows };
  }

  for (const [sort, dir] of [
    ["created", "desc"],
    ["created", "asc"],
    ["expires", "asc"],
    ["lastUsed", "desc"],
    ["lastUsed", "asc"],
    ["useCount", "desc"],
  ] as const) {
    it(`walks every page by ${sort} ${dir} without duplicates or gaps, forwards and backwards`, async () => {
      const { server } = await populated();
      const filter = { server: server.slug, sort, dir };
      const [all] = await walk(filter, 200);
      expect(all).toHaveLength(23);
      // The order is the sort key, then the id the other way round.
      const key = (h: THandleListItem) =>
        sort === "created" ? h.createdAt : sort === "expires" ? h.expiresAt : sort === "lastUsed" ? (h.lastUsedAt ?? "") : String(h.useCount).padStart(3, "0");
      const expected = [...all!].sort((a, b) => {
        const byKey = key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
        const byId = a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
        return dir === "asc" ? byKey || byId : -byKey || -byId;
      });
      expect(accessors(all!)).toEqual(accessors(expected));
      if (sort === "lastUsed") {
        // A never-used handle counts as the oldest use: last when newest first, first when oldest first.
        const nulls = all!.map((h) => h.lastUsedAt === null);
        expect(dir === "desc" ? nulls.slice(-5) : nulls.slice(0, 5)).toEqual([true, true, true, true, true]);
      }

      const pages = await walk(filter, 5);
      expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
      expect(accessors(pages.flat())).toEqual(accessors(all!));

      // Backwards from the last page with prevCursor gives the same pages.
      let page = await list(viewer(), { ...filter, limit: "5" });
      const forward = [page];
      while (page.nextCursor) forward.push((page = await list(viewer(), { ...filter, limit: "5", cursor: page.nextCursor })));
      const backward = [page];
      while (page.prevCursor) backward.unshift((page = await list(viewer(), { ...filter, limit: "5", cursor: page.prevCursor })));
      expect(backward.map((p) => accessors(p.data))).toEqual(forward.map((p) => accessors(p.data)));
      expect(backward[0]!.prevCursor).toBeNull();
    });
  }

  it("keeps pages stable while newer handles arrive", async () => {
    const { server, rows } = await populated();
    const first = await list(viewer(), { server: server.slug, limit: "10" });
    await handle({ serverId: server.id, principalId: rows[0]!.principalId });
    const second = await list(viewer(), { server: server.slug, limit: "10", cursor: first.nextCursor! });
    const third = await list(viewer(), { server: server.slug, limit: "10", cursor: second.nextCursor! });
    expect(new Set([...accessors(first.data), ...accessors(second.data), ...accessors(third.data)]).size).toBe(23);
    expect(third.nextCursor).toBeNull();
  });

  it("encodes cursors canonically and refuses anything else", () => {
    const position = { sort: "created", dir: "desc", kind: "after", value: "2026-11-26T05:00:00.000Z", id: randomUUID() } as const;
    const cursor = encodeHandleCursor(position);
    expect(decodeHandleCursor(cursor)).toEqual(position);
    expect(decodeHandleCursor(`${cursor}x`)).toBeNull();
    expect(decodeHandleCursor(cursor.slice(0, -3))).toBeNull();
    expect(decodeHandleCursor(btoa("1|created|desc|a|yesterday|x"))).toBeNull();
    expect(decodeHandleCursor(encodeHandleCursor({ ...position, sort: "useCount", value: "-1" }))).toBeNull();
    expect(decodeHandleCursor(encodeHandleCursor({ ...position, sort: "lastUsed", value: "-infinity" }))).toMatchObject({ value: "-infinity" });
  });
});

// ---- bad input ------------------------------------------------------------------------------

describe("bad input is a 400 with a clear message", () => {
  it("refuses a malformed cursor, a cursor of another sort, a page size out of range, unknown values and parameters", async () => {
    const cursor = await expectAppError(list(viewer(), { cursor: "bm90LWEtY3Vyc29y" }), "BAD_REQUEST");
    expect(cursor.status).toBe(400);
    expect(cursor.message).toMatch(/cursor is not one Tether issued/);

    const own = encodeHandleCursor({ sort: "created", dir: "desc", kind: "after", value: "2026-11-26T05:00:00.000Z", id: randomUUID() });
    expect((await expectAppError(list(viewer(), { cursor: own, sort: "expires" }), "BAD_REQUEST")).message).toMatch(/another sort order/);

    for (const limit of ["201", "0", "-1", "ten", "1.5"]) {
      const error = await expectAppError(list(viewer(), { limit }), "BAD_REQUEST");
      expect(issuePaths(error)).toEqual(["limit"]);
      expect(error.issues![0]!.message).toBe("Give a page size from 1 to 200.");
    }
    const status = await expectAppError(list(viewer(), { status: ["working", "sleeping"] }), "BAD_REQUEST");
    expect(status.issues).toEqual([{ path: "status", message: 'Unknown status "sleeping"; use working, input_required, completed, failed, cancelled, expired_upstream.' }]);
    expect(issuePaths(await expectAppError(list(viewer(), { owner: "bob" }), "BAD_REQUEST"))).toEqual(["owner"]);
    expect(issuePaths(await expectAppError(list(viewer(), { accessor: "hdl_%" }), "BAD_REQUEST"))).toEqual(["accessor"]);
    expect(issuePaths(await expectAppError(list(viewer(), { createdFrom: "yesterday" }), "BAD_REQUEST"))).toEqual(["createdFrom"]);
    expect(issuePaths(await expectAppError(list(viewer(), { createdFrom: "2026-11-02T00:00:00Z", createdTo: "2026-11-01T00:00:00Z" }), "BAD_REQUEST"))).toEqual([
      "createdTo",
    ]);
    expect(issuePaths(await expectAppError(list(viewer(), { preset: "everything" }), "BAD_REQUEST"))).toEqual(["preset"]);
    expect(issuePaths(await expectAppError(list(viewer(), { sort: "name" }), "BAD_REQUEST"))).toEqual(["sort"]);
    expect(issuePaths(await expectAppError(list(viewer(), { limit: ["10", "20"] }), "BAD_REQUEST"))).toEqual(["limit"]);
    expect((await expectAppError(list(viewer(), { colour: "red" } as Record<string, string>), "BAD_REQUEST")).issues![0]!.message).toMatch(/Unknown parameter colour/);
  });

  it("lets the page drop what it cannot use and say so", () => {
    const { filter, issues } = parseHandleFilterLenient({ status: "sleeping", limit: "9999", owner: randomUUID(), cursor: "garbage", cols: "server" });
    expect(issues.map((i) => i.path).sort()).toEqual(["cursor", "limit", "status"]);
    expect(filter).toMatchObject({ limit: 50, sort: "created", dir: "desc" });
    expect(filter.owner).toHaveLength(1);
    expect(filter.status).toBeUndefined();
  });
});

// ---- facets -----------------------------------------------------------------------------------

describe("countHandleFacets", () => {
  it("counts each facet under the rest of the filter, its own dimension left out", async () => {
    const server = await newServer();
    const [alice, bob] = [await newAgent(), await newAgent()];
    const mk = (principalId: string, status: "working" | "failed" | "completed", n: number) =>
      Promise.all(Array.from({ length: n }, () => handle({ serverId: server.id, principalId, status })));
    await mk(alice.id, "working", 3);
    await mk(alice.id, "failed", 2);
    await mk(bob.id, "working", 1);
    await mk(bob.id, "completed", 4);

    const facets = await countHandleFacets({ actor: viewer(), filter: { server: server.slug, status: "working", owner: alice.id } });
    // Status: counted for alice on this server, whatever the status.
    expect(Object.fromEntries(facets.status.map((s) => [s.value, s.count]))).toEqual({ working: 3, input_required: 0, completed: 0, failed: 2, cancelled: 0, expired_upstream: 0 });
    // Owner: working handles on this server, whoever owns them.
    expect(facets.owner.map((o) => [o.id, o.count]).sort()).toEqual([[alice.id, 3], [bob.id, 1]].sort());
    expect(facets.owner.find((o) => o.id === alice.id)).toMatchObject({ name: alice.name, kind: "service" });
    // Server: alice's working handles on any server (only this one has any).
    expect(facets.server).toEqual([{ slug: server.slug, name: server.name, count: 3 }]);
    expect(facets.total).toBe(3);
    expect(facets.total).toBe((await list(viewer(), { server: server.slug, status: "working", owner: alice.id })).data.length);

    const unfiltered = await countHandleFacets({ actor: viewer(), filter: { server: server.slug } });
    expect(unfiltered.total).toBe(10);
    expect(unfiltered.owner.map((o) => o.count).sort()).toEqual([5, 5]);
  });

  it("lists a chosen value that matches nothing, with a count of 0", async () => {
    const [server, empty] = [await newServer(), await newServer()];
    const [owner, idle] = [await newAgent(), await newAgent()];
    await handle({ serverId: server.id, principalId: owner.id });
    const facets = await countHandleFacets({ actor: viewer(), filter: { server: [server.slug, empty.slug], owner: [owner.id, idle.id] } });
    expect(facets.server.find((s) => s.slug === empty.slug)).toEqual({ slug: empty.slug, name: empty.name, count: 0 });
    expect(facets.owner.find((o) => o.id === idle.id)).toMatchObject({ count: 0, name: idle.name });
  });

  it("bounds the owner facet to the largest owners and says so", async () => {
    const server = await newServer();
    const owners = [];
    for (let i = 0; i < 27; i++) owners.push(await newAgent());
    for (const [i, o] of owners.entries()) for (let k = 0; k < (i === 0 ? 3 : 1); k++) await handle({ serverId: server.id, principalId: o.id });
    const facets = await countHandleFacets({ actor: viewer(), filter: { server: server.slug } });
    expect(facets.owner).toHaveLength(25);
    expect(facets.ownersTruncated).toBe(true);
    expect(facets.owner[0]).toMatchObject({ id: owners[0]!.id, count: 3 });
    // A chosen owner outside the top is listed too.
    const chosen = owners.find((o) => !facets.owner.some((f) => f.id === o.id))!;
    const withChosen = await countHandleFacets({ actor: viewer(), filter: { server: server.slug, owner: chosen.id } });
    expect(withChosen.owner.find((o) => o.id === chosen.id)).toMatchObject({ count: 1 });
  });
});

// ---- saved views ----------------------------------------------------------------------------

describe("saved views", () => {
  it("belong to their owner alone, are canonical, replace by name, and are audited in the same commit", async () => {
    const [alice, bob] = [actorFor(await createPrincipal(prisma, { role: "reviewer" })), actorFor(await createPrincipal(prisma, { role: "viewer" }))];
    const owner = randomUUID();

    const { view, replaced } = await saveSavedView({ actor: alice, data: { name: "  Stuck work ", query: `?status=working&cols=owner,server&limit=50&owner=${owner}&cursor=abc` } });
    expect(replaced).toBe(false);
    expect(view).toMatchObject({ name: "Stuck work", query: `status=working&owner=${owner}&cols=server%2Cowner`, href: `/handles?status=working&owner=${owner}&cols=server%2Cowner` });
    const [saved] = await auditEventsOfRequest(prisma, alice.request.requestId);
    expect(saved).toMatchObject({ action: "view.saved", actorId: alice.id, targetType: "handle_view", targetId: view.id, payload: { viewId: view.id, name: "Stuck work", replaced: false } });
    const [writers] = await prisma.$queryRaw<Array<{ view: string; event: string }>>`
      SELECT (SELECT xmin::text FROM handle_saved_view WHERE id = ${view.id}::uuid) AS view, (SELECT xmin::text FROM audit_event WHERE id = ${saved!.id}::uuid) AS event`;
    expect(writers!.view).toBe(writers!.event);

    expect((await listSavedViews({ actor: alice })).map((v) => v.id)).toEqual([view.id]);
    expect(await listSavedViews({ actor: bob })).toEqual([]);
    await expectAppError(deleteSavedView({ actor: bob, id: view.id }), "NOT_FOUND");
    await expectAppError(deleteSavedView({ actor: bob, id: "not-a-uuid" }), "NOT_FOUND");
    expect(await auditEventsOfRequest(prisma, bob.request.requestId)).toHaveLength(0);

    const again = await saveSavedView({ actor: alice, data: { name: "Stuck work", query: "preset=live" } });
    expect(again).toMatchObject({ replaced: true, view: { id: view.id, query: "preset=live" } });
    // Bob may use the same name for a view of his own.
    const bobs = await saveSavedView({ actor: bob, data: { name: "Stuck work", query: "" } });
    expect(bobs.view.id).not.toBe(view.id);

    const deleted = await deleteSavedView({ actor: alice, id: view.id });
    expect(deleted).toEqual({ id: view.id, name: "Stuck work" });
    expect(await listSavedViews({ actor: alice })).toEqual([]);
    expect((await auditEventsOfRequest(prisma, alice.request.requestId)).map((e) => e.action)).toEqual(["view.saved", "view.saved", "view.deleted"]);
    await expectAppError(deleteSavedView({ actor: alice, id: view.id }), "NOT_FOUND");
  });

  it("refuses a name or query that is not valid", async () => {
    const alice = actorFor(await createPrincipal(prisma, { role: "viewer" }));
    expect(issuePaths(await expectAppError(saveSavedView({ actor: alice, data: { name: " ", query: "" } }), "INVALID_INPUT"))).toEqual(["name"]);
    const bad = await expectAppError(saveSavedView({ actor: alice, data: { name: "x", query: "status=sleeping" } }), "INVALID_INPUT");
    expect(bad.issues![0]).toMatchObject({ path: "query", message: expect.stringMatching(/^status: Unknown status "sleeping"/) });
    await expectAppError(saveSavedView({ actor: alice, data: { name: "x", query: "limit=1000" } }), "INVALID_INPUT");
    expect(await listSavedViews({ actor: alice })).toEqual([]);
  });

  it("works over REST for an agent with its API key; another agent's view is 404", async () => {
    const [a, b] = [await agentWithKey(), await agentWithKey()];
    const created = await saveViewRoute(request("/api/v1/handle-views", { key: a.key, method: "POST", body: { name: "mine", query: "preset=orphaned" } }), noParams);
    expect(created.status).toBe(201);
    const { view } = (await created.json()) as { view: { id: string; href: string } };
    expect(view.href).toBe("/handles?preset=orphaned");
    const listedByB = (await (await listViewsRoute(request("/api/v1/handle-views", { key: b.key }), noParams)).json()) as { data: unknown[] };
    expect(listedByB.data).toEqual([]);
    const byB = await deleteViewRoute(request(`/api/v1/handle-views/${view.id}`, { key: b.key, method: "DELETE" }), { params: Promise.resolve({ id: view.id }) });
    expect(byB.status).toBe(404);
    const byA = await deleteViewRoute(request(`/api/v1/handle-views/${view.id}`, { key: a.key, method: "DELETE" }), { params: Promise.resolve({ id: view.id }) });
    expect(byA.status).toBe(200);
  });
});

// ---- REST: list and CSV export ----------------------------------------------------------------

const BASE = "http://tether.test";
const noParams = { params: Promise.resolve({}) } as { params: Promise<Record<string, never>> };

function request(path: string, init: { key: string; method?: string; body?: unknown }) {
  const headers = new Headers({ authorization: `Bearer ${init.key}` });
  if (init.body !== undefined) headers.set("content-type", "application/json");
  return new NextRequest(`${BASE}${path}`, { method: init.method ?? "GET", headers, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) });
}

async function agentWithKey(role: TRole = "viewer") {
  const account = await createPrincipal(prisma, { kind: "service", email: null, role });
  const { key } = await createApiKey({ actor: userActor("admin"), data: { principalId: account.id, name: "inventory test" } });
  return { account, key };
}

describe("GET /api/v1/handles", () => {
  it("answers a page as JSON for an API key, and 400 with the error body for bad parameters", async () => {
    const { key } = await agentWithKey();
    const server = await newServer();
    const owner = await newAgent();
    const rows = [await handle({ serverId: server.id, principalId: owner.id, createdAt: ago(2 * MIN) }), await handle({ serverId: server.id, principalId: owner.id, createdAt: ago(MIN) })];

    const res = await listRoute(request(`/api/v1/handles?server=${server.slug}&limit=1`, { key }), noParams);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { data: THandleListItem[]; nextCursor: string; prevCursor: null };
    expect(accessors(body.data)).toEqual([rows[1]!.accessor]);
    const next = (await (await listRoute(request(`/api/v1/handles?server=${server.slug}&limit=1&cursor=${body.nextCursor}`, { key }), noParams)).json()) as typeof body;
    expect(accessors(next.data)).toEqual([rows[0]!.accessor]);

    for (const [query, path] of [
      ["cursor=%%%", "cursor"],
      ["limit=500", "limit"],
      ["status=sleeping", "status"],
    ] as const) {
      const bad = await listRoute(request(`/api/v1/handles?${query}`, { key }), noParams);
      expect(bad.status, query).toBe(400);
      const error = (await bad.json()) as { error: { code: string; message: string; issues: Array<{ path: string }> } };
      expect(error.error.code).toBe("BAD_REQUEST");
      expect(error.error.issues.map((i) => i.path)).toEqual([path]);
    }
  });
});

describe("GET /api/v1/handles/export", () => {
  it("streams the filter as CSV without secret columns, audited with the filter and row count", async () => {
    const { account, key } = await agentWithKey("auditor");
    const server = await newServer();
    const owner = await newAgent();
    const rows = [];
    for (let i = 0; i < 3; i++) rows.push(await handle({ serverId: server.id, principalId: owner.id, createdAt: ago((3 - i) * MIN) }));
    await prisma.handle.update({ where: { id: rows[0]!.id }, data: { statusMessage: "=HYPERLINK(\"http://evil\")" } });
    await handle({ serverId: server.id, principalId: owner.id, revokedAt: ago(MIN) });

    const res = await exportRoute(request(`/api/v1/handles/export?server=${server.slug}&state=live&limit=1`, { key }), noParams);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="tether-handles-.*\.csv"$/);
    const csv = await res.text();
    const lines = csv.trim().split("\n");
    expect(lines[0]).toBe(
      "accessor,id,server,audience,ownerId,ownerName,ownerKind,sessionId,tool,wire,status,statusMessage,state,createdAt,expiresAt,lastUsedAt,useCount,effectiveTtlMs,policyVersion,revokedAt,revokeTrigger,revokeReason,cancelState",
    );
    // Every page, not just `limit`; newest first; only live ones.
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(accessors([...rows].reverse()));
    for (const r of rows) for (const secret of [r.tokenHash, r.tokenEnc, r.upstreamTaskIdHash, r.upstreamTaskIdEnc]) expect(csv).not.toContain(secret);
    expect(csv).not.toMatch(/token|upstreamTask/i);
    // A formula in a caller-controlled field is neutralised.
    expect(csv).toContain(`'=HYPERLINK(""http://evil"")`);

    const [event] = await prisma.auditEvent.findMany({ where: { action: "handles.exported", actorId: account.id } });
    expect(event).toMatchObject({
      actorType: "service",
      outcome: "ok",
      payload: { format: "csv", filter: { server: [server.slug], state: ["live"], sort: "created", dir: "desc" }, rowCount: 3, asOf: expect.any(String) },
    });
  });

  it("refuses a bad filter before anything is exported or audited", async () => {
    const { account, key } = await agentWithKey();
    const res = await exportRoute(request("/api/v1/handles/export?status=sleeping", { key }), noParams);
    expect(res.status).toBe(400);
    expect(await prisma.auditEvent.count({ where: { action: "handles.exported", actorId: account.id } })).toBe(0);
  });

  it("exports more rows than one batch, in order", async () => {
    const server = await newServer();
    const owner = await newAgent();
    await prisma.$executeRaw`
      INSERT INTO handle (id, accessor, token_hash, token_enc, upstream_task_id_enc, upstream_task_id_hash, wire, server_id, principal_id, audience, tool_name,
                          policy_version, effective_ttl_ms, created_at, expires_at)
      SELECT gen_random_uuid(), 'hdl_' || md5(random()::text || g), 'th-' || gen_random_uuid(), 'x', 'x', 'uh-' || gen_random_uuid(), 'core_2025_11_25',
             ${server.id}::uuid, ${owner.id}::uuid, 'http://tether.test/mcp', 'bulk', 1, 3600000, now() - g * interval '1 second', now() + interval '1 hour'
        FROM generate_series(1, 2345) g`;
    const { key } = await agentWithKey();
    const csv = await (await exportRoute(request(`/api/v1/handles/export?server=${server.slug}`, { key }), noParams)).text();
    const accessorsInCsv = csv.trim().split("\n").slice(1).map((l) => l.split(",")[0]);
    expect(accessorsInCsv).toHaveLength(2345);
    expect(new Set(accessorsInCsv).size).toBe(2345);
    const ordered = await prisma.handle.findMany({ where: { serverId: server.id }, orderBy: [{ createdAt: "desc" }, { id: "asc" }], select: { accessor: true } });
    expect(accessorsInCsv).toEqual(accessors(ordered));
  });
});
