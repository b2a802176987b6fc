-- Password reset links and team invitations. Both are sent by email as a
-- random token; only its SHA-256 is stored, so reading the database (or a
-- backup) does not yield a working link. Each is single-use: used_at and
-- accepted_at are set by the one UPDATE that consumes it.

CREATE TABLE password_resets (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ip         text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id, created_at);

CREATE TABLE invitations (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email            text NOT NULL CHECK (email = lower(btrim(email)) AND email <> ''),
    role             text NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    token_hash       bytea NOT NULL UNIQUE,
    invited_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    invited_by_email text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    accepted_at      timestamptz
);
-- One open invitation per person and tenant: inviting again replaces it.
CREATE UNIQUE INDEX invitations_open_key ON invitations (tenant_id, email) WHERE accepted_at IS NULL;
