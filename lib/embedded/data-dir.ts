// The embedded mode's data folder: database files, instance secrets and a lock that keeps
// two Tether processes from opening the same database.
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

export class DataDirError extends Error {}

const ZSecrets = z.object({
  sessionSecret: z.string().min(32),
  hmacKey: z.string().min(32),
  encryptionKey: z.string().min(40),
  demoUpstreamToken: z.string().min(32),
  createdAt: z.string(),
});
export type TInstanceSecrets = z.infer<typeof ZSecrets>;

export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * Takes the data folder's lock. A lock left by a process that no longer runs is stale and
 * is taken over; one held by a live process stops this start with a clear message.
 */
export function acquireLock(dir: string): () => void {
  const lockPath = path.join(dir, "tether.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number.parseInt(readFileSync(lockPath, "utf8").trim(), 10);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new DataDirError(`${dir} is in use by another Tether process (pid ${pid}). Stop it first, or set TETHER_DATA_DIR to another folder.`);
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new DataDirError(`Could not take the lock ${lockPath}.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Reads the instance secrets, generating them (mode 0600) on first run. Never overwrites. */
export function loadOrCreateSecrets(dir: string): { secrets: TInstanceSecrets; created: boolean } {
  const file = path.join(dir, "secrets.json");
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      throw new DataDirError(`${file} is not valid JSON. Restore it from a backup; Tether will not overwrite it (data encrypted with it would be lost).`);
    }
    const result = ZSecrets.safeParse(parsed);
    if (!result.success) throw new DataDirError(`${file} is incomplete or damaged. Restore it from a backup; Tether will not overwrite it.`);
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return { secrets: result.data, created: false };
  }
  const secrets: TInstanceSecrets = {
    sessionSecret: randomBytes(48).toString("base64url"),
    hmacKey: randomBytes(48).toString("base64url"),
    encryptionKey: randomBytes(32).toString("base64"),
    demoUpstreamToken: randomBytes(32).toString("base64url"),
    createdAt: new Date().toISOString(),
  };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  return { secrets, created: true };
}

/**
 * The Ed25519 key that signs audit checkpoints, generated on first use into the data folder
 * (mode 0600). Never overwritten: checkpoints signed with it must stay verifiable.
 */
export function loadOrCreateAuditSigningKey(dir: string, generate: () => string): string {
  const file = path.join(dir, "audit-signing-key.pem");
  if (existsSync(file)) {
    const pem = readFileSync(file, "utf8");
    if (!pem.includes("BEGIN PRIVATE KEY")) throw new DataDirError(`${file} is not a PEM private key. Restore it from a backup; Tether will not overwrite it.`);
    return pem;
  }
  const pem = generate();
  writeFileSync(file, pem, { mode: 0o600, flag: "wx" });
  return pem;
}

/** Demo sign-ins are kept (0600) so every start in demo mode can print them again. */
export function writeDemoCredentials(dir: string, credentials: unknown): void {
  writeFileSync(path.join(dir, "demo-credentials.json"), `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
}

export function readDemoCredentials<T>(dir: string, schema: z.ZodType<T>): T | null {
  const file = path.join(dir, "demo-credentials.json");
  if (!existsSync(file)) return null;
  try {
    const result = schema.safeParse(JSON.parse(readFileSync(file, "utf8")));
    return result.success ? result.data : null;
  } catch {
    return null;
  }
}
