// The MCP Task object as the gateway reads it from an upstream answer (2025-11-25 core tasks).
// Lenient where the spec allows variation, strict where Tether relies on a value. Pure.
import { z } from "zod";

export const TASK_STATUSES = ["working", "input_required", "completed", "failed", "cancelled"] as const;
export type TTaskStatus = (typeof TASK_STATUSES)[number];

export const ZUpstreamTask = z.looseObject({
  taskId: z.string().min(1).max(1024),
  status: z.enum(TASK_STATUSES),
  statusMessage: z.string().max(10_000).optional(),
  ttl: z.number().nonnegative().nullable().optional(),
  pollInterval: z.number().nonnegative().optional(),
});
export type TUpstreamTask = z.infer<typeof ZUpstreamTask>;

/** `CreateTaskResult` on the core wire: `{ task: Task, _meta? }`. */
export const ZCreateTaskResult = z.looseObject({ task: ZUpstreamTask });

const INT32_MAX = 2_147_483_647;
/** Milliseconds as stored (an int column): absurd values are capped, never wrapped. */
export function storedMs(value: number | null | undefined): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  return Math.min(Math.max(0, Math.round(value)), INT32_MAX);
}

/** `min(requested, upstream, policy max)`; an omitted request takes the policy default. Never unlimited. */
export function effectiveTtl(input: { requestedMs: number | null; upstreamMs: number | null; defaultMs: number; maxMs: number }): number {
  const candidates = [input.requestedMs ?? input.defaultMs, input.maxMs];
  if (input.upstreamMs !== null && input.upstreamMs > 0) candidates.push(input.upstreamMs);
  return Math.max(1, Math.min(...candidates));
}
