-- AlterTable
ALTER TABLE "handle" ADD COLUMN     "expired_at" TIMESTAMPTZ(3),
ADD COLUMN     "token_enc" TEXT NOT NULL,
ADD COLUMN     "upstream_task_id_hash" TEXT NOT NULL;

-- CreateIndex
CREATE INDEX "handle_server_id_upstream_task_id_hash_idx" ON "handle"("server_id", "upstream_task_id_hash");
