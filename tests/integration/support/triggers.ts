// Temporary triggers that bend the real database for one test: audit inserts that fail (to prove
// a change rolls back with its audit event) and slow inserts (to force two requests to overlap).
// Each trigger matches only the rows of its test and is dropped again afterwards.
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TPrismaClient } from "@/lib/db/client";

// DDL needs the database owner: the application's own connections run as tether_app, which may
// not create functions or triggers. `_prisma` names the client under test for readability only.
async function withTrigger<T>(_prisma: TPrismaClient, table: string, when: string, body: string, fn: () => Promise<T>): Promise<T> {
  const name = `test_trigger_${randomBytes(6).toString("hex")}`;
  const owner = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await owner.connect();
  try {
    await owner.query(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body} END $$`);
    try {
      await owner.query(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION ${name}()`);
      try {
        return await fn();
      } finally {
        await owner.query(`DROP TRIGGER IF EXISTS ${name} ON ${table}`);
      }
    } finally {
      await owner.query(`DROP FUNCTION IF EXISTS ${name}()`);
    }
  } finally {
    await owner.end();
  }
}

export type TAuditFailureMatch = { reason: string } | { targetId: string } | { payloadEmail: string } | { action: string };

function whenClause(match: TAuditFailureMatch): string {
  if ("reason" in match) return `NEW.reason = ${pg.escapeLiteral(match.reason)}`;
  if ("targetId" in match) return `NEW.target_id = ${pg.escapeLiteral(match.targetId)}`;
  if ("payloadEmail" in match) return `NEW.payload->>'email' = ${pg.escapeLiteral(match.payloadEmail)}`;
  return `NEW.action = ${pg.escapeLiteral(match.action)}`;
}

export const FORCED_AUDIT_FAILURE = "forced audit failure (test trigger)";

/**
 * Runs `fn` while a BEFORE INSERT trigger makes audit_event refuse the rows matching `match`
 * (only those, so nothing else running is affected), then drops the trigger again.
 */
export function withFailingAuditInserts<T>(prisma: TPrismaClient, match: TAuditFailureMatch, fn: () => Promise<T>): Promise<T> {
  return withTrigger(prisma, "audit_event", whenClause(match), `RAISE EXCEPTION ${pg.escapeLiteral(FORCED_AUDIT_FAILURE)};`, fn);
}

/**
 * Runs `fn` while every insert of a principal with `email` first sleeps for `seconds`, so two
 * requests creating that email both get past their own checks before either commits.
 */
export function withSlowPrincipalInserts<T>(prisma: TPrismaClient, email: string, seconds: number, fn: () => Promise<T>): Promise<T> {
  return withTrigger(prisma, "principal", `NEW.email = ${pg.escapeLiteral(email)}`, `PERFORM pg_sleep(${Number(seconds)}); RETURN NEW;`, fn);
}
