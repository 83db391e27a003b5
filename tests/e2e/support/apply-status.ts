// Run by the live-updates browser test under tsx: folds an observed upstream status into a handle
// through the status-sync use case (lib/handles/apply-observed-status.ts), in its own transaction,
// on the run's database, as the status-sync worker of another process would.
// Usage: tsx --conditions=react-server tests/e2e/support/apply-status.ts <accessor> <status> [message]
import { randomUUID } from "node:crypto";
import { getPrisma } from "@/lib/db/client";
import { applyObservedStatus } from "@/lib/handles/apply-observed-status";

const [accessor, status, statusMessage] = process.argv.slice(2);
if (!accessor || !status) throw new Error("usage: apply-status.ts <accessor> <status> [message]");
const db = getPrisma();
const handle = await db.handle.findUniqueOrThrow({ where: { accessor }, select: { id: true, accessor: true, status: true } });
const outcome = await db.$transaction((tx) =>
  applyObservedStatus(tx, { handle, observed: { status, statusMessage }, source: "poller", requestId: `e2e-${randomUUID()}`, countUse: false }),
);
await db.$disconnect();
process.stdout.write(`${outcome}\n`);
