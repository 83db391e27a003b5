-- CreateEnum
CREATE TYPE "PrincipalKind" AS ENUM ('user', 'service', 'system');

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('admin', 'reviewer', 'support', 'auditor', 'viewer');

-- CreateEnum
CREATE TYPE "ServerHealth" AS ENUM ('unknown', 'up', 'degraded', 'down');

-- CreateEnum
CREATE TYPE "TaskWire" AS ENUM ('core_2025_11_25', 'ext_2026_07_28');

-- CreateEnum
CREATE TYPE "PollAuditLevel" AS ENUM ('transitions', 'every_poll');

-- CreateEnum
CREATE TYPE "TaskStatus" AS ENUM ('working', 'input_required', 'completed', 'failed', 'cancelled', 'expired_upstream');

-- CreateEnum
CREATE TYPE "CancelState" AS ENUM ('none', 'requested', 'confirmed', 'already_terminal', 'not_supported', 'unreachable');

-- CreateEnum
CREATE TYPE "ActorType" AS ENUM ('user', 'service', 'system');

-- CreateEnum
CREATE TYPE "AuditOutcome" AS ENUM ('ok', 'denied', 'error');

-- CreateTable
CREATE TABLE "principal" (
    "id" UUID NOT NULL,
    "kind" "PrincipalKind" NOT NULL,
    "role" "Role" NOT NULL,
    "email" TEXT,
    "name" TEXT NOT NULL,
    "password_hash" TEXT,
    "oidc_issuer" TEXT,
    "oidc_subject" TEXT,
    "disabled_at" TIMESTAMPTZ(3),
    "last_sign_in_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "principal_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "console_session" (
    "id" UUID NOT NULL,
    "principal_id" UUID NOT NULL,
    "provider" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "end_reason" TEXT,
    "ip" TEXT,
    "user_agent" TEXT,

    CONSTRAINT "console_session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_key" (
    "id" UUID NOT NULL,
    "principal_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by_id" UUID,
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "revoked_by_id" UUID,
    "last_used_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_key_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mcp_server" (
    "id" UUID NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "credentials_enc" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "polling_paused" BOOLEAN NOT NULL DEFAULT false,
    "poll_min_ms" INTEGER NOT NULL DEFAULT 1000,
    "poll_max_ms" INTEGER NOT NULL DEFAULT 30000,
    "poll_concurrency" INTEGER NOT NULL DEFAULT 8,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "server_info" JSONB,
    "protocol_version" TEXT,
    "capabilities" JSONB,
    "tools" JSONB,
    "task_wires" "TaskWire"[] DEFAULT ARRAY[]::"TaskWire"[],
    "health" "ServerHealth" NOT NULL DEFAULT 'unknown',
    "last_checked_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "removed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "mcp_server_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "gateway_session" (
    "id" UUID NOT NULL,
    "session_hash" TEXT NOT NULL,
    "principal_id" UUID NOT NULL,
    "server_id" UUID NOT NULL,
    "api_key_id" UUID,
    "upstream_session_enc" TEXT,
    "protocol_version" TEXT,
    "client_info" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ended_at" TIMESTAMPTZ(3),
    "end_reason" TEXT,

    CONSTRAINT "gateway_session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "handle_policy" (
    "version" INTEGER NOT NULL,
    "max_ttl_ms" INTEGER NOT NULL,
    "default_ttl_ms" INTEGER NOT NULL,
    "max_live_handles_per_principal" INTEGER NOT NULL,
    "require_session_binding" BOOLEAN NOT NULL DEFAULT true,
    "allowed_operations" TEXT[] DEFAULT ARRAY['tasks/get', 'tasks/result', 'tasks/cancel', 'tasks/update']::TEXT[],
    "poll_audit_level" "PollAuditLevel" NOT NULL DEFAULT 'transitions',
    "min_valid_version" INTEGER NOT NULL DEFAULT 1,
    "thresholds" JSONB NOT NULL DEFAULT '{}',
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by_id" UUID,

    CONSTRAINT "handle_policy_pkey" PRIMARY KEY ("version")
);

-- CreateTable
CREATE TABLE "handle" (
    "id" UUID NOT NULL,
    "accessor" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "upstream_task_id_enc" TEXT NOT NULL,
    "wire" "TaskWire" NOT NULL,
    "server_id" UUID NOT NULL,
    "principal_id" UUID NOT NULL,
    "session_id" UUID,
    "api_key_id" UUID,
    "audience" TEXT NOT NULL,
    "tool_name" TEXT NOT NULL,
    "policy_version" INTEGER NOT NULL,
    "requested_ttl_ms" INTEGER,
    "upstream_ttl_ms" INTEGER,
    "effective_ttl_ms" INTEGER NOT NULL,
    "status" "TaskStatus" NOT NULL DEFAULT 'working',
    "status_message" TEXT,
    "poll_interval_ms" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "last_updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "use_count" INTEGER NOT NULL DEFAULT 0,
    "last_polled_at" TIMESTAMPTZ(3),
    "next_poll_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "revoked_by_id" UUID,
    "revoke_reason" TEXT,
    "revoke_trigger" TEXT,
    "cancel_state" "CancelState" NOT NULL DEFAULT 'none',
    "cancel_requested_at" TIMESTAMPTZ(3),
    "cancel_attempts" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "handle_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_event" (
    "seq" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_type" "ActorType" NOT NULL,
    "actor_id" TEXT,
    "actor_role" TEXT,
    "action" TEXT NOT NULL,
    "target_type" TEXT,
    "target_id" TEXT,
    "outcome" "AuditOutcome" NOT NULL,
    "reason" TEXT,
    "request_id" TEXT,
    "ip" TEXT,
    "user_agent" TEXT,
    "payload" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "audit_event_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "rate_limit" (
    "key" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "reset_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rate_limit_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "principal_email_key" ON "principal"("email");

-- CreateIndex
CREATE UNIQUE INDEX "principal_oidc_issuer_oidc_subject_key" ON "principal"("oidc_issuer", "oidc_subject");

-- CreateIndex
CREATE INDEX "console_session_principal_id_idx" ON "console_session"("principal_id");

-- CreateIndex
CREATE UNIQUE INDEX "api_key_prefix_key" ON "api_key"("prefix");

-- CreateIndex
CREATE UNIQUE INDEX "api_key_hash_key" ON "api_key"("hash");

-- CreateIndex
CREATE INDEX "api_key_principal_id_idx" ON "api_key"("principal_id");

-- CreateIndex
CREATE UNIQUE INDEX "mcp_server_slug_key" ON "mcp_server"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "gateway_session_session_hash_key" ON "gateway_session"("session_hash");

-- CreateIndex
CREATE INDEX "gateway_session_principal_id_idx" ON "gateway_session"("principal_id");

-- CreateIndex
CREATE INDEX "gateway_session_server_id_idx" ON "gateway_session"("server_id");

-- CreateIndex
CREATE UNIQUE INDEX "handle_accessor_key" ON "handle"("accessor");

-- CreateIndex
CREATE UNIQUE INDEX "handle_token_hash_key" ON "handle"("token_hash");

-- CreateIndex
CREATE INDEX "handle_principal_id_created_at_id_idx" ON "handle"("principal_id", "created_at" DESC, "id");

-- CreateIndex
CREATE INDEX "handle_server_id_created_at_id_idx" ON "handle"("server_id", "created_at" DESC, "id");

-- CreateIndex
CREATE INDEX "handle_status_created_at_id_idx" ON "handle"("status", "created_at" DESC, "id");

-- CreateIndex
CREATE INDEX "handle_created_at_id_idx" ON "handle"("created_at" DESC, "id");

-- CreateIndex
CREATE INDEX "handle_expires_at_idx" ON "handle"("expires_at");

-- CreateIndex
CREATE INDEX "handle_session_id_idx" ON "handle"("session_id");

-- CreateIndex
CREATE UNIQUE INDEX "audit_event_id_key" ON "audit_event"("id");

-- CreateIndex
CREATE INDEX "audit_event_occurred_at_idx" ON "audit_event"("occurred_at");

-- CreateIndex
CREATE INDEX "audit_event_action_occurred_at_idx" ON "audit_event"("action", "occurred_at");

-- CreateIndex
CREATE INDEX "audit_event_actor_id_occurred_at_idx" ON "audit_event"("actor_id", "occurred_at");

-- CreateIndex
CREATE INDEX "audit_event_target_type_target_id_idx" ON "audit_event"("target_type", "target_id");

-- AddForeignKey
ALTER TABLE "console_session" ADD CONSTRAINT "console_session_principal_id_fkey" FOREIGN KEY ("principal_id") REFERENCES "principal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_key" ADD CONSTRAINT "api_key_principal_id_fkey" FOREIGN KEY ("principal_id") REFERENCES "principal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "gateway_session" ADD CONSTRAINT "gateway_session_principal_id_fkey" FOREIGN KEY ("principal_id") REFERENCES "principal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "gateway_session" ADD CONSTRAINT "gateway_session_server_id_fkey" FOREIGN KEY ("server_id") REFERENCES "mcp_server"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "gateway_session" ADD CONSTRAINT "gateway_session_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_key"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "handle_policy" ADD CONSTRAINT "handle_policy_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "principal"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "handle" ADD CONSTRAINT "handle_server_id_fkey" FOREIGN KEY ("server_id") REFERENCES "mcp_server"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "handle" ADD CONSTRAINT "handle_principal_id_fkey" FOREIGN KEY ("principal_id") REFERENCES "principal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "handle" ADD CONSTRAINT "handle_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "gateway_session"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "handle" ADD CONSTRAINT "handle_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_key"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "handle" ADD CONSTRAINT "handle_revoked_by_id_fkey" FOREIGN KEY ("revoked_by_id") REFERENCES "principal"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------------------------
-- Hand-written below this line: not expressible in schema.prisma, so Prisma's diff neither
-- generates nor reports it (tests/integration/migrations-drift.test.ts relies on that).
-- ---------------------------------------------------------------------------------------------

-- audit_event is append-only. The database refuses changes itself, so a bug or a compromised
-- application role cannot rewrite history through any code path, raw SQL included. A table
-- owner or superuser can still disable triggers: run the application as a role that owns
-- nothing, and treat trigger changes as audited schema changes.
CREATE FUNCTION "audit_event_refuse_change"() RETURNS trigger
LANGUAGE plpgsql
-- A fixed search_path keeps the function's behaviour independent of the caller's session.
SET search_path = pg_catalog
AS $$
BEGIN
  -- insufficient_privilege rather than restrict_violation: adapter-pg turns 23001 into a
  -- "Foreign key constraint violated" error and drops this message on the way to the caller.
  RAISE EXCEPTION 'audit_event is append-only'
    USING ERRCODE = 'insufficient_privilege',
          DETAIL = format('%s on audit_event refused.', TG_OP),
          HINT = 'Record a new audit event instead of changing or removing one.';
END;
$$;

-- Row level, BEFORE: the statement fails before any row is touched.
CREATE TRIGGER "audit_event_refuse_update_delete"
BEFORE UPDATE OR DELETE ON "audit_event"
FOR EACH ROW EXECUTE FUNCTION "audit_event_refuse_change"();

-- TRUNCATE bypasses row-level triggers, so it needs its own statement-level trigger.
CREATE TRIGGER "audit_event_refuse_truncate"
BEFORE TRUNCATE ON "audit_event"
FOR EACH STATEMENT EXECUTE FUNCTION "audit_event_refuse_change"();
