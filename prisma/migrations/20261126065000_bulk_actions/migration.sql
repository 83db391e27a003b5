-- CreateEnum
CREATE TYPE "BulkActionKind" AS ENUM ('revoke', 'cancel');

-- CreateEnum
CREATE TYPE "BulkActionStatus" AS ENUM ('awaiting_approval', 'approved', 'running', 'completed', 'failed', 'rejected', 'cancelled');

-- CreateEnum
CREATE TYPE "BulkItemResult" AS ENUM ('revoked', 'already_revoked', 'expired', 'not_cancellable', 'cancel_requested', 'cancelled', 'error');

-- CreateTable
CREATE TABLE "bulk_action" (
    "id" UUID NOT NULL,
    "kind" "BulkActionKind" NOT NULL,
    "status" "BulkActionStatus" NOT NULL,
    "selection" JSONB NOT NULL,
    "snapshot_at" TIMESTAMPTZ(3) NOT NULL,
    "expected_count" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "requested_by_id" UUID NOT NULL,
    "requested_by_role" TEXT NOT NULL,
    "request_id" TEXT NOT NULL,
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "needs_approval" BOOLEAN NOT NULL,
    "approved_by_id" UUID,
    "approved_at" TIMESTAMPTZ(3),
    "closed_by_id" UUID,
    "closed_at" TIMESTAMPTZ(3),
    "close_reason" TEXT,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "done_count" INTEGER NOT NULL DEFAULT 0,
    "skipped_count" INTEGER NOT NULL DEFAULT 0,
    "failed_count" INTEGER NOT NULL DEFAULT 0,
    "lease_owner" TEXT,
    "lease_until" TIMESTAMPTZ(3),
    "failures" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "bulk_action_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bulk_action_item" (
    "bulk_action_id" UUID NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "handle_id" UUID NOT NULL,
    "accessor" TEXT NOT NULL,
    "result" "BulkItemResult",
    "cancel_outcome" "CancelState",
    "detail" TEXT,
    "processed_at" TIMESTAMPTZ(3),

    CONSTRAINT "bulk_action_item_pkey" PRIMARY KEY ("bulk_action_id","ordinal")
);

-- CreateIndex
CREATE INDEX "bulk_action_status_lease_until_idx" ON "bulk_action"("status", "lease_until");

-- CreateIndex
CREATE INDEX "bulk_action_requested_at_id_idx" ON "bulk_action"("requested_at" DESC, "id");

-- CreateIndex
CREATE INDEX "bulk_action_item_handle_id_idx" ON "bulk_action_item"("handle_id");

-- CreateIndex
CREATE UNIQUE INDEX "bulk_action_item_bulk_action_id_handle_id_key" ON "bulk_action_item"("bulk_action_id", "handle_id");

-- AddForeignKey
ALTER TABLE "bulk_action" ADD CONSTRAINT "bulk_action_requested_by_id_fkey" FOREIGN KEY ("requested_by_id") REFERENCES "principal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bulk_action" ADD CONSTRAINT "bulk_action_approved_by_id_fkey" FOREIGN KEY ("approved_by_id") REFERENCES "principal"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bulk_action" ADD CONSTRAINT "bulk_action_closed_by_id_fkey" FOREIGN KEY ("closed_by_id") REFERENCES "principal"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bulk_action_item" ADD CONSTRAINT "bulk_action_item_bulk_action_id_fkey" FOREIGN KEY ("bulk_action_id") REFERENCES "bulk_action"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bulk_action_item" ADD CONSTRAINT "bulk_action_item_handle_id_fkey" FOREIGN KEY ("handle_id") REFERENCES "handle"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written (Prisma cannot express a partial index, and its diff leaves this one alone): the
-- items a bulk job has not processed yet, in order. The runner takes its next chunk from here, so
-- chunk 100 of a 100,000-handle job reads 1,000 entries, not the 99,000 already done.
CREATE INDEX "bulk_action_item_pending_idx" ON "bulk_action_item"("bulk_action_id", "ordinal") WHERE "result" IS NULL;
