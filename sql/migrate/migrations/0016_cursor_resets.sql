-- A stream's cursor can be reset (Reset a location) while a run of the
-- stream is going, and the run's next page would put its own position back
-- over the reset one (jobs/ledger owns cursors and sync_runs). resets counts
-- the resets of the cursor: a run remembers the count it started with, and
-- its pages move the cursor only while the count is unchanged. note says,
-- on the run's page, why a run stopped early without failing.
ALTER TABLE cursors
    ADD COLUMN resets integer NOT NULL DEFAULT 0;
ALTER TABLE sync_runs
    ADD COLUMN note text NOT NULL DEFAULT '';
