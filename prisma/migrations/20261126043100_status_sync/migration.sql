-- AlterTable
ALTER TABLE "handle" ADD COLUMN     "poll_failures" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE INDEX "handle_next_poll_at_idx" ON "handle"("next_poll_at");
