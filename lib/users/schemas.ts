import { z } from "zod";
import { ZRole } from "@/lib/auth/schemas";

export { ZCreateUserInput, type TCreateUserInput } from "@/lib/auth/schemas";

export const ZUserId = z.string().uuid("Unknown user.");

export const ZChangeRoleInput = z.object({ userId: ZUserId, role: ZRole });
export const ZSetDisabledInput = z.object({
  userId: ZUserId,
  disabled: z.boolean(),
  reason: z.string().trim().min(3, "Give a reason (at least 3 characters).").max(500, "A reason has at most 500 characters."),
});

/** What any API or page may show of a principal: never the password hash. */
export const ZUserDto = z.object({
  id: z.string(),
  kind: z.enum(["user", "service", "system"]),
  email: z.string().nullable(),
  name: z.string(),
  role: ZRole,
  disabledAt: z.date().nullable(),
  lastSignInAt: z.date().nullable(),
  createdAt: z.date(),
  sso: z.boolean(),
});
export type TUserDto = z.infer<typeof ZUserDto>;

export function toUserDto(p: {
  id: string;
  kind: "user" | "service" | "system";
  email: string | null;
  name: string;
  role: TUserDto["role"];
  disabledAt: Date | null;
  lastSignInAt: Date | null;
  createdAt: Date;
  oidcSubject: string | null;
}): TUserDto {
  return ZUserDto.parse({ ...p, sso: p.oidcSubject !== null });
}
