-- An idle stream is probed rather than run (jobs/ledger owns sync_streams).
-- Its last idle run leaves the one cheap read that tells whether anything
-- changed past its cursor (probe, the engine's own encoding); the scheduler
-- makes that read instead of a whole run while it finds nothing. probes
-- counts them since the last whole run, so a stream idle for hours still
-- runs whole now and then (retries of transient failures, drift checks).
ALTER TABLE sync_streams
    ADD COLUMN probe  text NOT NULL DEFAULT '',
    ADD COLUMN probes integer NOT NULL DEFAULT 0;
