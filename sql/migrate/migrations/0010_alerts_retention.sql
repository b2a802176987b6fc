-- Alerts sent to a tenant, one row per cause and UTC day: at most one email
-- per cause per day (jobs owns it).
CREATE TABLE alerts_sent (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- What the alert is about, e.g. "failing:customers:ls→sf:" or
    -- "reconnect:salesforce".
    cause     text NOT NULL,
    day       date NOT NULL,
    sent_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, cause, day)
);

-- Retention prunes events and runs by age across every tenant; rows arrive
-- in time order, so a BRIN index finds the old ones at almost no cost to
-- the sync's writes.
CREATE INDEX sync_events_created_brin ON sync_events USING brin (created_at);
CREATE INDEX sync_runs_started_brin ON sync_runs USING brin (started_at);
