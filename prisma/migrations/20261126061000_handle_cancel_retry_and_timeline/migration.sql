-- DropIndex
DROP INDEX "audit_event_target_type_target_id_idx";

-- AlterTable
ALTER TABLE "handle" ADD COLUMN     "cancel_next_attempt_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "audit_event_target_type_target_id_seq_idx" ON "audit_event"("target_type", "target_id", "seq");

-- CreateIndex
CREATE INDEX "handle_cancel_next_attempt_at_idx" ON "handle"("cancel_next_attempt_at");
