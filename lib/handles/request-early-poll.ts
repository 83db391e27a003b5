import "server-only";
import { getPool } from "@/lib/db/client";
import { describeErrorForLog, log } from "@/lib/log";

/**
 * Makes a live, non-terminal handle due for the status-sync worker now (an upstream status
 * notification hinted at a change). A worker holding the handle keeps its lease (a separate
 * column), so the hint never causes a second poll alongside one in flight. Nothing is audited.
 */
export async function requestEarlyPoll(handleId: string): Promise<void> {
  try {
    await getPool().query(
      `UPDATE handle SET next_poll_at = now()
        WHERE id = $1::uuid AND status IN ('working', 'input_required') AND revoked_at IS NULL AND (next_poll_at IS NULL OR next_poll_at > now())`,
      [handleId],
    );
  } catch (err) {
    log.warn({ err: describeErrorForLog(err) }, "Could not schedule an early status poll");
  }
}
