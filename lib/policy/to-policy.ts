import { normaliseOperations, type TPolicy } from "./schemas";

type TPolicyRow = {
  version: number;
  maxTtlMs: number;
  defaultTtlMs: number;
  maxLiveHandlesPerPrincipal: number;
  requireSessionBinding: boolean;
  allowedOperations: string[];
  pollAuditLevel: "transitions" | "every_poll";
  minValidVersion: number;
  thresholds: unknown;
  reason: string;
  createdAt: Date;
  createdById: string | null;
};

export function toPolicy(row: TPolicyRow): TPolicy {
  return {
    version: row.version,
    maxTtlMs: row.maxTtlMs,
    defaultTtlMs: row.defaultTtlMs,
    maxLiveHandlesPerPrincipal: row.maxLiveHandlesPerPrincipal,
    requireSessionBinding: row.requireSessionBinding,
    allowedOperations: normaliseOperations(row.allowedOperations),
    pollAuditLevel: row.pollAuditLevel,
    minValidVersion: row.minValidVersion,
    thresholds: row.thresholds,
    reason: row.reason,
    createdAt: row.createdAt,
    createdById: row.createdById,
  };
}
