// One handle at the boundaries (handle page, REST API): the cancel and timeline inputs, and the
// DTOs. DTOs are parsed through these schemas before they leave a use case, so a secret column
// (token hash, encrypted token, upstream task id) can never reach a page or a response: no DTO
// has a field for one. Pure.
import { z } from "zod";
import { ZAccessor } from "./schemas";

export const ZCancelHandleInput = z.object({
  accessor: ZAccessor,
  reason: z
    .string({ message: "Give a reason for the cancellation (at least 3 characters)." })
    .trim()
    .min(3, "Give a reason for the cancellation (at least 3 characters).")
    .max(500, "A reason has at most 500 characters."),
});

export const TIMELINE_PAGE_MAX = 500;
export const TIMELINE_PAGE_DEFAULT = 200;

/** A timeline page: events after `after` (a sequence number), oldest first. Query strings arrive as text. */
export const ZHandleTimelineQuery = z.object({
  accessor: ZAccessor,
  after: z
    .string({ message: "after is the sequence number of the last event you have." })
    .regex(/^\d{1,18}$/, "after is the sequence number of the last event you have.")
    .optional(),
  limit: z.coerce
    .number({ message: `limit is a whole number from 1 to ${TIMELINE_PAGE_MAX}.` })
    .int(`limit is a whole number from 1 to ${TIMELINE_PAGE_MAX}.`)
    .min(1, `limit is a whole number from 1 to ${TIMELINE_PAGE_MAX}.`)
    .max(TIMELINE_PAGE_MAX, `limit is a whole number from 1 to ${TIMELINE_PAGE_MAX}.`)
    .default(TIMELINE_PAGE_DEFAULT),
});

export const TASK_STATUSES = ["working", "input_required", "completed", "failed", "cancelled", "expired_upstream"] as const;
export const CANCEL_STATES = ["none", "requested", "confirmed", "already_terminal", "not_supported", "unreachable"] as const;
export type TCancelState = (typeof CANCEL_STATES)[number];

const ZDate = z.date();

/** What a handle is now, in one word, for badges and 409 bodies. */
export const HANDLE_LIFECYCLE = ["live", "terminal", "revoked", "expired"] as const;

export const ZHandleStateDto = z.object({
  accessor: z.string(),
  lifecycle: z.enum(HANDLE_LIFECYCLE),
  status: z.enum(TASK_STATUSES),
  cancelState: z.enum(CANCEL_STATES),
  revokedAt: ZDate.nullable(),
  revokeTrigger: z.string().nullable(),
  expiresAt: ZDate,
});
export type THandleStateDto = z.infer<typeof ZHandleStateDto>;

export const ZHandleDetailDto = ZHandleStateDto.extend({
  toolName: z.string(),
  wire: z.enum(["core_2025_11_25", "ext_2026_07_28"]),
  server: z.object({ id: z.string(), slug: z.string(), name: z.string(), enabled: z.boolean(), removed: z.boolean() }),
  principal: z.object({ id: z.string(), name: z.string(), kind: z.enum(["user", "service", "system"]), email: z.string().nullable(), disabled: z.boolean() }),
  session: z
    .object({ id: z.string(), createdAt: ZDate, endedAt: ZDate.nullable(), endReason: z.string().nullable(), clientName: z.string().nullable() })
    .nullable(),
  apiKey: z.object({ prefix: z.string(), name: z.string(), revoked: z.boolean() }).nullable(),
  audience: z.string(),
  policy: z.object({ version: z.number().int(), current: z.number().int().nullable(), honoured: z.boolean() }),
  ttl: z.object({ requestedMs: z.number().int().nullable(), upstreamMs: z.number().int().nullable(), effectiveMs: z.number().int() }),
  statusMessage: z.string().nullable(),
  createdAt: ZDate,
  expiredAt: ZDate.nullable(),
  lastUpdatedAt: ZDate,
  lastPolledAt: ZDate.nullable(),
  lastUsedAt: ZDate.nullable(),
  useCount: z.number().int(),
  cancel: z.object({ state: z.enum(CANCEL_STATES), requestedAt: ZDate.nullable(), attempts: z.number().int(), nextAttemptAt: ZDate.nullable() }),
  revocation: z.object({ at: ZDate, by: z.object({ id: z.string(), name: z.string() }).nullable(), reason: z.string().nullable(), trigger: z.string().nullable() }).nullable(),
});
export type THandleDetailDto = z.infer<typeof ZHandleDetailDto>;

export const ZTimelineEventDto = z.object({
  seq: z.string(),
  id: z.string(),
  occurredAt: ZDate,
  action: z.string(),
  actor: z.object({ type: z.enum(["user", "service", "system"]), id: z.string().nullable(), name: z.string(), role: z.string().nullable() }),
  outcome: z.enum(["ok", "denied", "error"]),
  reason: z.string().nullable(),
  requestId: z.string().nullable(),
  payload: z.record(z.string(), z.json()),
});
export type TTimelineEventDto = z.infer<typeof ZTimelineEventDto>;

export const ZHandleTimelineDto = z.object({ events: z.array(ZTimelineEventDto), nextCursor: z.string().nullable() });
export type THandleTimelineDto = z.infer<typeof ZHandleTimelineDto>;

/** A row of the support view: enough to decide and cancel. */
export const ZActiveHandleDto = z.object({
  accessor: z.string(),
  toolName: z.string(),
  status: z.enum(TASK_STATUSES),
  statusMessage: z.string().nullable(),
  cancelState: z.enum(CANCEL_STATES),
  server: z.object({ slug: z.string(), name: z.string() }),
  principal: z.object({ name: z.string() }),
  createdAt: ZDate,
  expiresAt: ZDate,
  lastUpdatedAt: ZDate,
});
export type TActiveHandleDto = z.infer<typeof ZActiveHandleDto>;

export const ACTIVE_PAGE_SIZE = 50;

/** The support view's page: newest first, keyset by (created, id); the cursor is `<epoch ms>_<id>`. */
export const ZActiveHandlesQuery = z.object({
  before: z
    .string()
    .regex(/^\d{1,15}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "before is the cursor of the last row you have.")
    .optional(),
});
