import { z } from "zod";
import { ROLES } from "./permissions";

export const ZEmail = z
  .string()
  .trim()
  .min(3, "Enter an email address.")
  .max(254, "An email address has at most 254 characters.")
  .email("Enter a valid email address.")
  .transform((v) => v.toLowerCase());

export const ZPassword = z
  .string()
  .min(12, "Use at least 12 characters.")
  .max(256, "Use at most 256 characters.");

export const ZSignInInput = z.object({
  email: ZEmail,
  // Sign-in accepts any stored password length; the policy applies when one is set.
  password: z.string().min(1, "Enter your password.").max(256, "Use at most 256 characters."),
});

export const ZRole = z.enum(ROLES, { message: `Choose one of: ${ROLES.join(", ")}.` });

export const ZCreateUserInput = z.object({
  email: ZEmail,
  name: z.string().trim().min(1, "Enter a name.").max(120, "A name has at most 120 characters."),
  role: ZRole,
  password: ZPassword.optional(),
});
export type TCreateUserInput = z.input<typeof ZCreateUserInput>;
