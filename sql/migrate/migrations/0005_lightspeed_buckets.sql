-- The Lightspeed rate-limit bucket of each (account, OAuth client), shared by
-- every web and worker process: a client reserves drips by updating the row
-- under SELECT ... FOR UPDATE, so two processes never both spend the last
-- drips. The bucket belongs to the Lightspeed account, not to a tenant (it is
-- what Lightspeed meters), hence no tenant_id; rows hold no tenant data.
CREATE TABLE lightspeed_buckets (
    account_id    bigint NOT NULL,
    client_id     text NOT NULL,
    -- Drips in the bucket as of level_at, reservations not yet answered
    -- included.
    level         double precision NOT NULL DEFAULT 0,
    level_at      timestamptz,
    -- As the API last reported them (the client's defaults until then).
    size          double precision NOT NULL DEFAULT 0,
    drip_rate     double precision NOT NULL DEFAULT 0,
    burst_limit   integer NOT NULL DEFAULT 0,
    -- Send times of the requests admitted within the last second.
    sent          timestamptz[] NOT NULL DEFAULT '{}',
    -- No request before this: the Retry-After of the last 429.
    blocked_until timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, client_id)
);
