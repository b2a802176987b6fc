-- Why a connection left the connected state (a refused refresh, a
-- disconnect), in words safe to show the merchant: the dashboard's
-- "needs reconnect" banner reads it. Never holds a token.
ALTER TABLE connections
    ADD COLUMN status_reason     text NOT NULL DEFAULT '',
    ADD COLUMN status_changed_at timestamptz;
