-- CreateEnum
CREATE TYPE "ComplianceReportStatus" AS ENUM ('queued', 'running', 'completed', 'failed');

-- CreateEnum
CREATE TYPE "ComplianceControlStatus" AS ENUM ('pass', 'fail', 'partial', 'not_measurable');

-- CreateTable
CREATE TABLE "compliance_report" (
    "id" UUID NOT NULL,
    "status" "ComplianceReportStatus" NOT NULL DEFAULT 'queued',
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "period_end" TIMESTAMPTZ(3) NOT NULL,
    "period_label" TEXT NOT NULL,
    "generated_by_id" UUID NOT NULL,
    "generated_by_name" TEXT NOT NULL,
    "generated_by_role" TEXT NOT NULL,
    "regenerated_from_id" UUID,
    "progress_done" INTEGER NOT NULL DEFAULT 0,
    "progress_total" INTEGER NOT NULL DEFAULT 0,
    "progress_step" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lease_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "failure_reason" TEXT,
    "policy_version" INTEGER,
    "checkpoint_position" BIGINT,
    "checkpoint_hash" TEXT,
    "checkpoint_signature" TEXT,
    "checkpoint_key_id" TEXT,
    "checkpoint_created_at" TIMESTAMPTZ(3),
    "summary" JSONB,
    "content" TEXT,
    "content_sha256" TEXT,

    CONSTRAINT "compliance_report_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "compliance_report_item" (
    "report_id" UUID NOT NULL,
    "control_id" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "status" "ComplianceControlStatus" NOT NULL,
    "value" DOUBLE PRECISION,
    "population" BIGINT,
    "violations" BIGINT,
    "threshold" JSONB,

    CONSTRAINT "compliance_report_item_pkey" PRIMARY KEY ("report_id","control_id")
);

-- CreateIndex
CREATE INDEX "compliance_report_created_at_idx" ON "compliance_report"("created_at" DESC);

-- CreateIndex
CREATE INDEX "compliance_report_status_created_at_idx" ON "compliance_report"("status", "created_at");

-- AddForeignKey
ALTER TABLE "compliance_report_item" ADD CONSTRAINT "compliance_report_item_report_id_fkey" FOREIGN KEY ("report_id") REFERENCES "compliance_report"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written below this line.
-- A generated report is immutable. While queued or running, the job updates its progress and
-- lease; the transaction that completes it inserts its items first, then sets status
-- 'completed' with the content and its SHA-256 (checked here against the content itself). From
-- then on — and likewise after 'failed' — every UPDATE and DELETE is refused, for everyone:
-- regenerating makes a new report. Items may only be added to a running report and never change.
CREATE FUNCTION compliance_report_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.status IN ('completed', 'failed') THEN
      RAISE EXCEPTION 'compliance_report % is % and cannot be deleted', OLD.id, OLD.status USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.status IN ('completed', 'failed') THEN
    RAISE EXCEPTION 'compliance_report % is % and immutable; generate a new report instead', OLD.id, OLD.status USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.status = 'completed' AND (NEW.content IS NULL OR NEW.content_sha256 IS DISTINCT FROM encode(sha256(convert_to(NEW.content, 'UTF8')), 'hex')) THEN
    RAISE EXCEPTION 'compliance_report %: a completed report needs its content and the SHA-256 of that content', NEW.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER compliance_report_guard BEFORE UPDATE OR DELETE ON "compliance_report"
FOR EACH ROW EXECUTE FUNCTION compliance_report_guard();

CREATE FUNCTION compliance_report_item_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NOT EXISTS (SELECT 1 FROM compliance_report r WHERE r.id = NEW.report_id AND r.status = 'running') THEN
      RAISE EXCEPTION 'compliance_report_item: report % is not being generated', NEW.report_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'compliance_report_item is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER compliance_report_item_guard BEFORE INSERT OR UPDATE OR DELETE ON "compliance_report_item"
FOR EACH ROW EXECUTE FUNCTION compliance_report_item_guard();

CREATE FUNCTION compliance_report_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% cannot be truncated: generated reports are immutable', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER compliance_report_refuse_truncate BEFORE TRUNCATE ON "compliance_report"
FOR EACH STATEMENT EXECUTE FUNCTION compliance_report_refuse_truncate();
CREATE TRIGGER compliance_report_item_refuse_truncate BEFORE TRUNCATE ON "compliance_report_item"
FOR EACH STATEMENT EXECUTE FUNCTION compliance_report_refuse_truncate();

-- The application never deletes a report, and never changes an item.
REVOKE DELETE, TRUNCATE ON "compliance_report" FROM tether_app;
REVOKE UPDATE, DELETE, TRUNCATE ON "compliance_report_item" FROM tether_app;
