-- A stream's run holds it by a lease (jobs/ledger owns sync_streams): the run
-- takes it when it starts and renews it every few seconds, so a worker that
-- dies (SIGKILL, a lost machine) frees its streams when the lease runs out,
-- not when River rescues its job. run_owner is the holding run's random
-- token, so only that run renews or releases it.
ALTER TABLE sync_streams
    ADD COLUMN run_owner       text,
    ADD COLUMN run_lease_until timestamptz;
