-- The field mapping screen (jobs/mapping owns both tables).

-- The Lightspeed fields the screen listed when the tenant last saved its
-- mapping: a custom field that appears later is shown as "new".
CREATE TABLE mapping_sources (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    source_field text NOT NULL,
    PRIMARY KEY (tenant_id, source_field)
);

-- Resyncs: every linked record re-sent with the current mapping, in the
-- background, with its progress.
CREATE TABLE mapping_resyncs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    mapping_version integer NOT NULL,
    status          text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'waiting', 'done', 'failed')),
    total           integer NOT NULL DEFAULT 0 CHECK (total >= 0),
    done            integer NOT NULL DEFAULT 0 CHECK (done >= 0),
    message         text NOT NULL DEFAULT '',
    requested_by    text NOT NULL DEFAULT '',
    requested_at    timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
CREATE INDEX mapping_resyncs_tenant_idx ON mapping_resyncs (tenant_id, id);
