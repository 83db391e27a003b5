// Hand-made rows for the compliance tests: principals, servers, sessions, handles and audit events
// with chosen timestamps, then a real seal + signed checkpoint so metric queries run exactly as in
// a report. Secrets are shaped like the real ones (keyed-hash length, envelope prefix) but random.
import { randomBytes, randomUUID } from "node:crypto";
import { sealAuditChain } from "@/lib/audit/seal-audit-chain";
import { getAuditSigningKey } from "@/lib/audit/signing-key";
import type { TControl, TMetricContext } from "@/lib/compliance/controls/types";
import { measureOnce, sampleOffenders } from "@/lib/compliance/measure-control";
import { thresholdFor } from "@/lib/compliance/thresholds";
import { getPool, getPrisma } from "@/lib/db/client";

export const DAY = 86_400_000;
export const MIN = 60_000;

const b64 = (n: number) => randomBytes(n).toString("base64url");

/** Policy version 1 from long ago, so every fixture time has a policy in force. */
export async function installOldPolicy(): Promise<void> {
  await getPrisma().$executeRawUnsafe(
    `INSERT INTO handle_policy (version, max_ttl_ms, default_ttl_ms, max_live_handles_per_principal, reason, created_at)
     VALUES (1, 3600000, 900000, 100, 'test policy', now() - interval '1000 days') ON CONFLICT DO NOTHING`,
  );
}

export async function makeAgent(options: { disabledAt?: Date } = {}) {
  return getPrisma().principal.create({
    data: { kind: "service", role: "viewer", name: `agent-${randomUUID().slice(0, 8)}`, disabledAt: options.disabledAt ?? null },
  });
}

export async function makeReviewer() {
  return getPrisma().principal.create({ data: { kind: "user", role: "reviewer", name: `reviewer-${randomUUID().slice(0, 8)}`, email: `r-${randomUUID()}@example.test` } });
}

export async function makeServer(options: { removedAt?: Date; enabled?: boolean; audience?: string } = {}) {
  const slug = `srv-${randomUUID().slice(0, 8)}`;
  return getPrisma().mcpServer.create({
    data: { slug, name: slug, url: "http://127.0.0.1:1/mcp", audience: options.audience ?? `https://tether.test/mcp/${slug}`, removedAt: options.removedAt ?? null, enabled: options.enabled ?? true },
  });
}

export async function makeSession(principalId: string, serverId: string, options: { createdAt?: Date; endedAt?: Date | null } = {}) {
  return getPrisma().gatewaySession.create({
    data: { sessionHash: b64(32), principalId, serverId, createdAt: options.createdAt ?? new Date(Date.now() - 400 * DAY), endedAt: options.endedAt ?? null },
  });
}

export type THandleFixture = {
  principalId: string;
  serverId: string;
  sessionId?: string | null;
  apiKeyId?: string | null;
  createdAt: Date;
  ttlMs?: number;
  expiresAt?: Date;
  revokedAt?: Date | null;
  revokeTrigger?: string;
  lastUsedAt?: Date | null;
  expiredAt?: Date | null;
  cancelRequestedAt?: Date | null;
  policyVersion?: number;
  audience?: string;
  tokenHash?: string;
  statusMessage?: string | null;
};

export async function makeHandle(f: THandleFixture) {
  const expiresAt = f.expiresAt ?? new Date(f.createdAt.getTime() + (f.ttlMs ?? 30 * MIN));
  return getPrisma().handle.create({
    data: {
      accessor: `hdl_${randomBytes(10).toString("hex")}`,
      tokenHash: f.tokenHash ?? b64(32),
      tokenEnc: `v1.${b64(12)}.${b64(16)}.${b64(47)}`,
      upstreamTaskIdEnc: `v1.${b64(12)}.${b64(16)}.${b64(20)}`,
      upstreamTaskIdHash: b64(32),
      wire: "core_2025_11_25",
      serverId: f.serverId,
      principalId: f.principalId,
      sessionId: f.sessionId === undefined ? null : f.sessionId,
      apiKeyId: f.apiKeyId ?? null,
      audience: f.audience ?? "https://tether.test/mcp/test",
      toolName: "simulate-research-query",
      policyVersion: f.policyVersion ?? 1,
      effectiveTtlMs: Math.max(1, Math.min(2_147_483_647, expiresAt.getTime() - f.createdAt.getTime())),
      createdAt: f.createdAt,
      expiresAt,
      lastUsedAt: f.lastUsedAt ?? null,
      statusMessage: f.statusMessage ?? null,
      ...(f.revokedAt ? { revokedAt: f.revokedAt, revokeReason: "test", revokeTrigger: f.revokeTrigger ?? "manual" } : {}),
      ...(f.expiredAt ? { expiredAt: f.expiredAt } : {}),
      ...(f.cancelRequestedAt ? { cancelRequestedAt: f.cancelRequestedAt, cancelState: "requested" as const } : {}),
    },
  });
}

export type TEventFixture = {
  action: string;
  occurredAt: Date;
  actorType?: "user" | "service" | "system";
  actorId?: string | null;
  target?: { type: string; id: string };
  outcome?: "ok" | "denied" | "error";
  reason?: string | null;
  ip?: string | null;
  payload?: Record<string, unknown>;
};

/** An audit event inserted directly, with the time it claims (the chain seals it like any other). */
export async function makeEvent(e: TEventFixture) {
  return getPrisma().auditEvent.create({
    data: {
      occurredAt: e.occurredAt,
      actorType: e.actorType ?? "service",
      actorId: e.actorId ?? null,
      action: e.action,
      targetType: e.target?.type ?? null,
      targetId: e.target?.id ?? null,
      outcome: e.outcome ?? "ok",
      reason: e.reason ?? null,
      ip: e.ip ?? null,
      payload: (e.payload ?? {}) as object,
    },
  });
}

/** Seals everything committed and signs a checkpoint now; the context metric queries are pinned to. */
export async function pinCheckpoint(): Promise<Omit<TMetricContext, "start" | "end" | "target">> {
  // The sealer links an event once every older transaction on the server has finished (other
  // databases' too: transaction ids are cluster-wide), so keep sealing until ours are all in.
  const deadline = Date.now() + 60_000;
  for (;;) {
    await sealAuditChain(getPool(), { signingKey: getAuditSigningKey(), checkpointEvery: 1, checkpointSeconds: 0 });
    const { rows } = await getPool().query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_event e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_seq = e.seq)",
    );
    if (rows[0]!.n === 0) break;
    if (Date.now() > deadline) throw new Error(`${rows[0]!.n} audit events stayed unsealed for a minute`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const { rows } = await getPool().query<{ position: string; created_at: Date; txid: string; seq: string }>(
    `SELECT cp.position::text AS position, cp.created_at, e.txid::text AS txid, e.seq::text AS seq
       FROM audit_checkpoint cp JOIN audit_chain c ON c.position = cp.position JOIN audit_event e ON e.seq = c.event_seq
      ORDER BY cp.position DESC LIMIT 1`,
  );
  const cp = rows[0]!;
  return { cpPosition: cp.position, cpAt: cp.created_at, cpTxid: cp.txid, cpSeq: cp.seq };
}

/** Runs one control over [start, end) against the latest checkpoint, with its default threshold, plus its sample. */
export async function measure(control: TControl, start: Date, end: Date, thresholds: unknown = {}) {
  const cp = await pinCheckpoint();
  const threshold = thresholdFor(control, thresholds);
  const m = await measureOnce(getPool(), control, { start, end, ...cp }, threshold);
  const sample = threshold && (m.interpretation?.violations ?? 0) > 0 ? await sampleOffenders(getPool(), control, { start, end, ...cp, target: threshold.target }) : [];
  return { ...m, sample: sample.map((s) => (s.kind === "handle" ? s.accessor : s.id)) };
}

/** A window of its own for each test, far enough apart that fixtures never meet. */
export function windowAt(index: number): { start: Date; end: Date; at: (offsetMs: number) => Date } {
  const start = new Date(Math.floor(Date.now() / DAY) * DAY - 300 * DAY + index * 12 * DAY);
  const end = new Date(start.getTime() + 10 * DAY);
  return { start, end, at: (offsetMs: number) => new Date(start.getTime() + offsetMs) };
}
