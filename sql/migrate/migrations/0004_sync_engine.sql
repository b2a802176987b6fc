-- The sync engine's bookkeeping (owned by jobs/ledger and jobs/mapping).

-- Several Lightspeed customers that share one email become one Salesforce
-- record (the first is its "active" link, the others "alias" links), so a
-- Salesforce id may appear on several links of one kind.
DROP INDEX links_sf_key;
CREATE INDEX links_sf_idx ON links (tenant_id, kind, sf_id);
ALTER TABLE links
    -- active: the pair syncs; alias: a Lightspeed record folded into another's
    -- Salesforce record; gone: the Salesforce record was deleted; pending: a
    -- Lightspeed create is under way for a Salesforce-born record (ls_id is
    -- 'pending:<sf id>' until it is known).
    ADD COLUMN state   text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'alias', 'gone', 'pending')),
    -- The canonical values both sides agreed on after the last sync: what a
    -- change is compared with to see which side changed which field.
    ADD COLUMN vals    jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN note    text NOT NULL DEFAULT '',
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();

-- One row per stream (per tenant, and per location for sales): the
-- scheduler's state. The scheduler reads only the due rows (by index), never
-- every tenant.
CREATE TABLE sync_streams (
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    location        text NOT NULL DEFAULT '',
    stream          text NOT NULL,
    paused          boolean NOT NULL DEFAULT false,
    -- Why the stream is held back, in words for the merchant ("Salesforce API
    -- reserve reached", "Lightspeed needs reconnecting"); empty when it runs.
    hold_reason     text NOT NULL DEFAULT '',
    next_run_at     timestamptz NOT NULL DEFAULT now(),
    idle_runs       integer NOT NULL DEFAULT 0,
    failed_runs     integer NOT NULL DEFAULT 0,
    last_run_id     bigint,
    last_success_at timestamptz,
    -- A history import's progress (sales): records done of the total seen.
    progress_done   bigint NOT NULL DEFAULT 0,
    progress_total  bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, location, stream)
);
CREATE INDEX sync_streams_due_idx ON sync_streams (next_run_at) WHERE NOT paused;

ALTER TABLE sync_runs
    ADD COLUMN mapping_version integer NOT NULL DEFAULT 0,
    ADD COLUMN records         integer NOT NULL DEFAULT 0;

ALTER TABLE sync_events
    ADD COLUMN stream   text NOT NULL DEFAULT '',
    ADD COLUMN location text NOT NULL DEFAULT '',
    -- What a person searches by: a name, an email, a ticket number.
    ADD COLUMN label    text NOT NULL DEFAULT '',
    -- For failures: the API's own error code (INVALID_EMAIL_ADDRESS, ...).
    ADD COLUMN code     text NOT NULL DEFAULT '';
CREATE INDEX sync_events_failed_idx ON sync_events (tenant_id, kind, ls_id, id DESC) WHERE action = 'failed';
CREATE INDEX sync_events_tenant_idx ON sync_events (tenant_id, id DESC);

-- The field mapping is versioned: a save writes a new version's rows, and
-- each run records the version it used. No rows means the preset defaults.
ALTER TABLE field_mappings
    ADD COLUMN version    integer NOT NULL DEFAULT 1,
    ADD COLUMN position   integer NOT NULL DEFAULT 0,
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE field_mappings DROP CONSTRAINT field_mappings_tenant_id_stream_target_object_target_field_key;
CREATE INDEX field_mappings_version_idx ON field_mappings (tenant_id, version);
