import "server-only";
import { stringify } from "csv-stringify/sync";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { Prisma } from "@/lib/db/generated/client";
import { normaliseHandleFilter, parseHandleFilter, type THandleCursor } from "./handle-filter-schema";
import { handleFilterConditions, whereSql } from "./handle-filter-sql";
import type { THandleListItem } from "./handle-list-dto";
import { positionOf, selectHandleRows } from "./list-handles";

const BATCH = 1000;

export const HANDLE_CSV_COLUMNS = [
  "accessor",
  "id",
  "server",
  "audience",
  "ownerId",
  "ownerName",
  "ownerKind",
  "sessionId",
  "tool",
  "wire",
  "status",
  "statusMessage",
  "state",
  "createdAt",
  "expiresAt",
  "lastUsedAt",
  "useCount",
  "effectiveTtlMs",
  "policyVersion",
  "revokedAt",
  "revokeTrigger",
  "revokeReason",
  "cancelState",
] as const;

export type THandleExport = { stream: ReadableStream<Uint8Array>; filename: string; contentType: string; rowCount: number };

/**
 * Streams every handle matching the filter (query input, as listHandles takes it; the cursor and
 * page size are ignored) as CSV, in the filter's sort order, one keyset batch per read. The export
 * is audited (`handles.exported`, with the filter and the row count) before the first byte: the
 * count is taken first, and the stream is pinned to handles created up to that moment, so new
 * handles do not join it while it runs. No transaction stays open while the file streams (the
 * embedded database serves every connection from one backend), so a handle that changes state
 * mid-export can still enter or leave a state filter; `asOf` in the event says when it started.
 * The CSV holds the inventory's columns only: no token, no upstream task id, not even hashed.
 */
export async function exportHandles(input: { actor: TActor; query: unknown }): Promise<THandleExport> {
  assertCan(input.actor, "handles.read");
  const { cursor: _cursor, ...filter } = parseHandleFilter(input.query ?? {});
  const db = getPrisma();

  const [counted] = await db.$queryRaw<Array<{ n: number; asOf: Date }>>`
    SELECT count(*)::int AS n, now() AS "asOf" FROM handle h ${whereSql([...handleFilterConditions(filter), Prisma.sql`h.created_at <= now()`])}`;
  const { n: rowCount, asOf } = counted!;
  await db.$transaction((tx) =>
    recordAuditEvent(tx, {
      actor: input.actor,
      action: "handles.exported",
      payload: { format: "csv", filter: { ...normaliseHandleFilter(filter), sort: filter.sort, dir: filter.dir }, rowCount, asOf: asOf.toISOString() },
    }),
  );

  const pinned = [Prisma.sql`h.created_at <= ${asOf.toISOString()}::timestamptz`];
  const encoder = new TextEncoder();
  let after: THandleCursor | null = null;
  let started = false;
  let done = false;
  const stream = new ReadableStream<Uint8Array>({
    // One batch per pull: back-pressure comes from the HTTP response, memory stays flat.
    async pull(controller) {
      try {
        if (!started) {
          started = true;
          controller.enqueue(encoder.encode(stringify([HANDLE_CSV_COLUMNS as unknown as string[]])));
          return;
        }
        if (done) {
          controller.close();
          return;
        }
        const rows = await selectHandleRows(filter, { after, readDir: filter.dir, limit: BATCH, extra: pinned });
        if (rows.length < BATCH) done = true;
        const last = rows.at(-1);
        if (last) after = positionOf(filter, last, "after");
        // Reasons, names and status messages are caller-controlled: neutralise spreadsheet formulas.
        if (rows.length) controller.enqueue(encoder.encode(stringify(rows.map(toCsvRow), { escape_formulas: true })));
        if (done) controller.close();
      } catch (err) {
        controller.error(err);
      }
    },
  });
  const stamp = asOf.toISOString().replace(/[:.]/g, "-");
  return { stream, filename: `tether-handles-${stamp}.csv`, contentType: "text/csv; charset=utf-8", rowCount };
}

function toCsvRow(h: THandleListItem): Array<string | number> {
  return [
    h.accessor,
    h.id,
    h.server.slug,
    h.audience,
    h.owner.id,
    h.owner.name,
    h.owner.kind,
    h.session?.id ?? "",
    h.toolName,
    h.wire,
    h.status,
    h.statusMessage ?? "",
    h.state,
    h.createdAt,
    h.expiresAt,
    h.lastUsedAt ?? "",
    h.useCount,
    h.effectiveTtlMs,
    h.policyVersion,
    h.revokedAt ?? "",
    h.revokeTrigger ?? "",
    h.revokeReason ?? "",
    h.cancelState,
  ];
}
