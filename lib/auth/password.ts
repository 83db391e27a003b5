import "server-only";
import { hash, verify } from "@node-rs/argon2";

// argon2id (the @node-rs default algorithm) with OWASP's recommended minimums:
// 19 MiB memory, 2 iterations, 1 lane.
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

// Verifying against this when the account does not exist keeps the response time of
// "no such user" close to "wrong password", so sign-in is not an account oracle.
let dummyHash: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword("tether-dummy-password-for-timing");
  await verifyPassword(await dummyHash, password);
}
