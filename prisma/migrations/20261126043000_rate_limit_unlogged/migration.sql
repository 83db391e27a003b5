-- Rate-limit counters are written on every gateway task call and every failed sign-in. They are
-- short-lived windows, not records: UNLOGGED skips the WAL (no flush per commit). After a crash
-- Postgres empties the table, which only restarts the windows. Prisma's schema has no notion of
-- UNLOGGED, so this lives here only (the drift check ignores it).
ALTER TABLE "rate_limit" SET UNLOGGED;
