-- AlterTable
ALTER TABLE "mcp_server" ADD COLUMN     "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "last_error_kind" TEXT,
ADD COLUMN     "last_latency_ms" INTEGER,
ADD COLUMN     "next_health_check_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "server_health_check" (
    "id" BIGSERIAL NOT NULL,
    "server_id" UUID NOT NULL,
    "checked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ok" BOOLEAN NOT NULL,
    "status" "ServerHealth" NOT NULL,
    "latency_ms" INTEGER,
    "error_kind" TEXT,
    "error" TEXT,

    CONSTRAINT "server_health_check_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "server_health_check_server_id_id_idx" ON "server_health_check"("server_id", "id" DESC);

-- CreateIndex
CREATE INDEX "mcp_server_next_health_check_at_idx" ON "mcp_server"("next_health_check_at");

-- AddForeignKey
ALTER TABLE "server_health_check" ADD CONSTRAINT "server_health_check_server_id_fkey" FOREIGN KEY ("server_id") REFERENCES "mcp_server"("id") ON DELETE CASCADE ON UPDATE CASCADE;
