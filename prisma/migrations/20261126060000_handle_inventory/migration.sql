-- DropIndex
DROP INDEX "handle_expires_at_idx";

-- CreateTable
CREATE TABLE "handle_saved_view" (
    "id" UUID NOT NULL,
    "principal_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "query" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "handle_saved_view_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "handle_saved_view_principal_id_name_key" ON "handle_saved_view"("principal_id", "name");

-- CreateIndex
CREATE INDEX "handle_expires_at_id_idx" ON "handle"("expires_at", "id" DESC);

-- CreateIndex
CREATE INDEX "handle_use_count_id_idx" ON "handle"("use_count", "id" DESC);

-- CreateIndex
CREATE INDEX "handle_tool_name_created_at_id_idx" ON "handle"("tool_name", "created_at" DESC, "id");

-- AddForeignKey
ALTER TABLE "handle_saved_view" ADD CONSTRAINT "handle_saved_view_principal_id_fkey" FOREIGN KEY ("principal_id") REFERENCES "principal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: Prisma cannot round-trip these three, and its schema diff leaves them alone
-- (schema.prisma names them in a comment on the handle model).
-- Accessor prefix search, case-insensitive (lower(accessor) LIKE 'hdl_ab%'), whatever the collation.
CREATE INDEX "handle_accessor_prefix_idx" ON "handle"((lower("accessor")) text_pattern_ops);

-- The inventory's "last used" sort: a never-used handle sorts as the oldest.
CREATE INDEX "handle_last_used_sort_idx" ON "handle"((COALESCE("last_used_at", '-infinity'::timestamptz)), "id" DESC);

-- Handles that may still be live: not revoked and not yet marked expired by the sweeper. It stays
-- small (the sweeper marks expired handles within seconds), so the live presets never read history.
CREATE INDEX "handle_unexpired_created_idx" ON "handle"("created_at" DESC, "id") WHERE "revoked_at" IS NULL AND "expired_at" IS NULL;
