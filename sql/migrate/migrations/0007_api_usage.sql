-- Each tenant's API usage per provider and UTC day: the calls Tandem made,
-- and the latest limit reading the provider reported with them. Feeds the
-- usage charts and the Salesforce reserve check (jobs/connect owns it).
CREATE TABLE api_usage (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider    text NOT NULL CHECK (provider IN ('lightspeed', 'salesforce')),
    day         date NOT NULL,
    calls       bigint NOT NULL DEFAULT 0 CHECK (calls >= 0),
    -- The latest reading of the day: for Salesforce the org's API calls
    -- used in its rolling 24 hours and its daily allocation (Sforce-Limit-Info),
    -- for Lightspeed the bucket level and size (X-LS-API-Bucket-Level).
    used        double precision,
    capacity    double precision,
    measured_at timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, provider, day)
);
