-- Room on each heap page of `handle` for the status sync's lease claims to be HOT updates.
-- A claim (lib/handles/sync-handle-statuses.ts) writes only poll_lease_until, which no index
-- covers; when the new row version fits on the same page, Postgres writes no index entry, where
-- otherwise it adds one to each of the table's 19 indexes. Measured on 10,000 handles, 1,000
-- claimed per statement (load average 4–5 on 2 cores): about half the claims became HOT and a
-- claim statement went from 124–156 ms to 71–104 ms. The poll's own write (next_poll_at is
-- indexed) is not HOT either way. The cost: new pages are filled to 80 %, so the table is about
-- a quarter larger. Pages written before this migration keep their packing until rewritten.
ALTER TABLE "handle" SET (fillfactor = 80);
