-- Sync history: the indexes behind /history's filters, search and failed
-- records, so its pages stay fast with millions of events. Lists are
-- paginated by keyset (newest first), so each index ends in the sort key.

-- Runs newest first, for all streams, one stream (and location), or one
-- outcome; a date filter is a range on the same key.
CREATE INDEX sync_runs_history_idx ON sync_runs (tenant_id, started_at DESC, id DESC);
CREATE INDEX sync_runs_stream_history_idx ON sync_runs (tenant_id, stream, location, started_at DESC, id DESC);
CREATE INDEX sync_runs_status_history_idx ON sync_runs (tenant_id, status, started_at DESC, id DESC);
DROP INDEX sync_runs_tenant_idx;

-- Search by Lightspeed or Salesforce id (exact), and a record's history
-- (has it succeeded since it failed?).
CREATE INDEX sync_events_ls_idx ON sync_events (tenant_id, ls_id, id DESC);
CREATE INDEX sync_events_sf_idx ON sync_events (tenant_id, sf_id, id DESC);
-- Search by name, email or ticket number anywhere in the label.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX sync_events_label_idx ON sync_events USING gin (lower(label) gin_trgm_ops);
-- Failed records, newest first.
CREATE INDEX sync_events_failures_idx ON sync_events (tenant_id, id DESC) WHERE action = 'failed';
-- A run's events in order, for the run page (keyset on id).
CREATE INDEX sync_events_run_order_idx ON sync_events (tenant_id, run_id, id);
DROP INDEX sync_events_run_idx;
