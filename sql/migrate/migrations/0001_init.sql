-- Tandem's first schema: tenants and their people, connections, the sync
-- bookkeeping (links, cursors, runs, events) and the audit log. Every table that
-- holds tenant data carries tenant_id, and every query filters on it.

CREATE TABLE tenants (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    settings   jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL CHECK (email = lower(btrim(email)) AND email <> ''),
    password_hash text NOT NULL,
    is_staff      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE memberships (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

-- Server-side session records: the cookie carries only a random id, so logout
-- and a fresh id at login really end the old session.
CREATE TABLE web_sessions (
    id         text PRIMARY KEY,
    data       bytea NOT NULL,
    user_id    uuid REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);

-- Failed log-ins, kept long enough to throttle by email and by client address.
CREATE TABLE login_failures (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email     text NOT NULL,
    ip        text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (email, failed_at);
CREATE INDEX login_failures_ip_idx ON login_failures (ip, failed_at);

CREATE TABLE connections (
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider          text NOT NULL CHECK (provider IN ('lightspeed', 'salesforce')),
    status            text NOT NULL CHECK (status IN ('connected', 'needs_reauth', 'disconnected')),
    external_account  text NOT NULL,
    external_name     text NOT NULL DEFAULT '',
    instance_url      text NOT NULL DEFAULT '',
    login_host        text NOT NULL DEFAULT '',
    -- Sealed with AES-256-GCM; key_id names the key that sealed both tokens.
    access_token_enc  bytea,
    refresh_token_enc bytea,
    key_id            text NOT NULL DEFAULT '',
    expires_at        timestamptz,
    scopes            text NOT NULL DEFAULT '',
    metadata          jsonb NOT NULL DEFAULT '{}'::jsonb,
    connected_at      timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, provider)
);

CREATE TABLE locations (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ls_shop_id    text NOT NULL,
    name          text NOT NULL,
    enabled       boolean NOT NULL DEFAULT false,
    is_new        boolean NOT NULL DEFAULT true,
    sf_value      text NOT NULL DEFAULT '',
    discovered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, ls_shop_id)
);

CREATE TABLE field_mappings (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    stream        text NOT NULL,
    source_field  text NOT NULL,
    target_object text NOT NULL,
    target_field  text NOT NULL,
    direction     text NOT NULL CHECK (direction IN ('ls_to_sf', 'sf_to_ls', 'both')),
    transform     text NOT NULL DEFAULT '',
    UNIQUE (tenant_id, stream, target_object, target_field)
);

-- The identity map between the two systems: what prevents duplicates and echo loops.
CREATE TABLE links (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind      text NOT NULL,
    ls_id     text NOT NULL,
    sf_id     text NOT NULL,
    ls_hash   text NOT NULL DEFAULT '',
    sf_hash   text NOT NULL DEFAULT '',
    synced_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, kind, ls_id)
);
CREATE UNIQUE INDEX links_sf_key ON links (tenant_id, kind, sf_id);

CREATE TABLE cursors (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    location   text NOT NULL DEFAULT '',
    stream     text NOT NULL,
    position   text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, location, stream)
);

CREATE TABLE sync_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    location    text NOT NULL DEFAULT '',
    stream      text NOT NULL,
    trigger     text NOT NULL,
    status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'partial')),
    counts      jsonb NOT NULL DEFAULT '{}'::jsonb,
    api_calls   jsonb NOT NULL DEFAULT '{}'::jsonb,
    error       text NOT NULL DEFAULT '',
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX sync_runs_tenant_idx ON sync_runs (tenant_id, started_at DESC);

CREATE TABLE sync_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    run_id     bigint NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    action     text NOT NULL CHECK (action IN ('created', 'updated', 'linked', 'skipped', 'conflict', 'failed')),
    kind       text NOT NULL,
    ls_id      text NOT NULL DEFAULT '',
    sf_id      text NOT NULL DEFAULT '',
    message    text NOT NULL DEFAULT '',
    detail     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_events_run_idx ON sync_events (tenant_id, run_id);

CREATE TABLE audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     uuid REFERENCES tenants (id) ON DELETE CASCADE,
    actor_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    actor_email   text NOT NULL DEFAULT '',
    action        text NOT NULL,
    detail        jsonb NOT NULL DEFAULT '{}'::jsonb,
    ip            text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, created_at DESC);
