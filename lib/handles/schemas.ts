// Handle use cases at their boundaries (console, REST API). Pure.
import { z } from "zod";

export const ZAccessor = z.string({ message: "Name the handle by its accessor (hdl_…)." }).regex(/^hdl_[0-9a-f]{20,32}$/, "Name the handle by its accessor (hdl_…).");

export const ZRevokeHandleInput = z.object({
  accessor: ZAccessor,
  reason: z
    .string({ message: "Give a reason for the revocation (at least 3 characters)." })
    .trim()
    .min(3, "Give a reason for the revocation (at least 3 characters).")
    .max(500, "A reason has at most 500 characters."),
});

export type TRevokedHandleDto = { accessor: string; revokedAt: string; revokeReason: string; revokeTrigger: "manual" };
