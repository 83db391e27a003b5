-- AlterTable
ALTER TABLE "handle" ADD COLUMN     "poll_lease_until" TIMESTAMPTZ(3);
