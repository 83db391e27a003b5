import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { hashPassword } from "@/lib/auth/password";
import { getPrisma } from "@/lib/db/client";
import { AppError, invalidInput } from "@/lib/errors";
import { ZCreateUserInput, toUserDto, type TUserDto } from "./schemas";

/** Creates a console user. Without a password the user can only sign in through OIDC. */
export async function createUser(input: { actor: TActor; data: unknown }): Promise<TUserDto> {
  assertCan(input.actor, "users.manage");
  const parsed = ZCreateUserInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { email, name, role, password } = parsed.data;
  const passwordHash = password ? await hashPassword(password) : null;

  const db = getPrisma();
  if (await db.principal.findUnique({ where: { email }, select: { id: true } })) {
    throw emailTaken();
  }
  try {
    return await db.$transaction(async (tx) => {
      const user = await tx.principal.create({ data: { kind: "user", email, name, role, passwordHash } });
      await recordAuditEvent(tx, {
        actor: input.actor,
        action: "user.created",
        target: { type: "principal", id: user.id },
        payload: { email, role, kind: "user" },
      });
      return toUserDto(user);
    });
  } catch (err) {
    // Two admins creating the same address at once: the unique index decides.
    if ((err as { code?: string }).code === "P2002") throw emailTaken();
    throw err;
  }
}

function emailTaken(): AppError {
  return new AppError("CONFLICT", "A user with this email already exists.", {
    issues: [{ path: "email", message: "A user with this email already exists." }],
  });
}
