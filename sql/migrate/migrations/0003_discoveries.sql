-- What Tandem learned about each connected account when it was connected
-- (and at every "Refresh from ..."): Lightspeed shops, registers, employees,
-- payment types and customer custom fields; the Salesforce org, user, API
-- usage, person-account setting and the describe of the objects Tandem may
-- write. A table of its own rather than connections.metadata: the vault owns
-- the connection row and rewrites it whole on every save, while discovery is
-- kept across a disconnect (the setup and mapping screens still read it) and
-- cleared only by a reset to another account. Never holds a token.
CREATE TABLE discoveries (
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider         text NOT NULL CHECK (provider IN ('lightspeed', 'salesforce')),
    external_account text NOT NULL,
    data             jsonb NOT NULL,
    -- API calls the discovery spent, and how long it took: the cost the
    -- merchant pays against their limits for a refresh.
    api_calls        integer NOT NULL DEFAULT 0,
    duration_ms      integer NOT NULL DEFAULT 0,
    discovered_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, provider)
);
