-- AlterTable
ALTER TABLE "audit_event" ADD COLUMN     "txid" xid8 NOT NULL DEFAULT pg_current_xact_id();

-- CreateTable
CREATE TABLE "audit_chain" (
    "position" BIGINT NOT NULL,
    "event_seq" BIGINT NOT NULL,
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "sealed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_chain_pkey" PRIMARY KEY ("position")
);

-- CreateTable
CREATE TABLE "audit_checkpoint" (
    "position" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "key_id" TEXT NOT NULL,
    "public_key" TEXT NOT NULL,
    "signature" TEXT NOT NULL,

    CONSTRAINT "audit_checkpoint_pkey" PRIMARY KEY ("position")
);

-- CreateTable
CREATE TABLE "audit_verification_run" (
    "id" UUID NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3) NOT NULL,
    "ok" BOOLEAN NOT NULL,
    "events" INTEGER NOT NULL,
    "checkpoints" INTEGER NOT NULL,
    "last_position" BIGINT,
    "failure" JSONB,
    "trigger" TEXT NOT NULL,

    CONSTRAINT "audit_verification_run_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "audit_chain_event_seq_key" ON "audit_chain"("event_seq");

-- CreateIndex
CREATE INDEX "audit_verification_run_finished_at_idx" ON "audit_verification_run"("finished_at");

-- CreateIndex
CREATE INDEX "audit_event_txid_seq_idx" ON "audit_event"("txid", "seq");

-- AddForeignKey
ALTER TABLE "audit_chain" ADD CONSTRAINT "audit_chain_event_seq_fkey" FOREIGN KEY ("event_seq") REFERENCES "audit_event"("seq") ON DELETE RESTRICT ON UPDATE RESTRICT;

-- ---------------------------------------------------------------------------------------------
-- Hand-written below this line (not expressible in schema.prisma).
-- ---------------------------------------------------------------------------------------------

-- The chain and its checkpoints are append-only like the events they seal.
CREATE TRIGGER "audit_chain_refuse_update_delete"
BEFORE UPDATE OR DELETE ON "audit_chain"
FOR EACH ROW EXECUTE FUNCTION "audit_event_refuse_change"();
CREATE TRIGGER "audit_chain_refuse_truncate"
BEFORE TRUNCATE ON "audit_chain"
FOR EACH STATEMENT EXECUTE FUNCTION "audit_event_refuse_change"();
CREATE TRIGGER "audit_checkpoint_refuse_update_delete"
BEFORE UPDATE OR DELETE ON "audit_checkpoint"
FOR EACH ROW EXECUTE FUNCTION "audit_event_refuse_change"();
CREATE TRIGGER "audit_checkpoint_refuse_truncate"
BEFORE TRUNCATE ON "audit_checkpoint"
FOR EACH STATEMENT EXECUTE FUNCTION "audit_event_refuse_change"();

-- The role the application runs as (lib/db/client.ts switches every pooled connection to it
-- with SET ROLE). It may read and write the domain tables but only INSERT and SELECT the
-- audit tables, so even a bug or an injection in the application cannot rewrite history; the
-- triggers above stop everyone else. Roles are cluster-wide, hence the existence check.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tether_app') THEN
    CREATE ROLE tether_app NOLOGIN;
  END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO tether_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO tether_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO tether_app;
REVOKE UPDATE, DELETE, TRUNCATE ON "audit_event", "audit_chain", "audit_checkpoint", "audit_verification_run" FROM tether_app;
-- The migration history is the migrator's alone (absent in a diff's shadow database).
DO $$
BEGIN
  IF to_regclass('_prisma_migrations') IS NOT NULL THEN
    REVOKE ALL ON "_prisma_migrations" FROM tether_app;
  END IF;
END
$$;
-- Tables added by later migrations get the same default; audit-like tables must revoke again.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO tether_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO tether_app;
