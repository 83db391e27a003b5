/** The policy a new installation starts with (version 1). Admins change it on the Policy page. */
export const DEFAULT_POLICY = {
  maxTtlMs: 60 * 60 * 1000,
  defaultTtlMs: 15 * 60 * 1000,
  maxLiveHandlesPerPrincipal: 100,
  requireSessionBinding: true,
  allowedOperations: ["tasks/get", "tasks/result", "tasks/cancel", "tasks/update", "tasks/list"],
  pollAuditLevel: "transitions" as const,
  minValidVersion: 1,
};
