-- A sales history import staged for Bulk API 2.0 (jobs/ledger owns these
-- tables, written with the stream's cursor). The import reads the store's
-- history page by page into bulk_rows and bulk_sales, then uploads each
-- object's rows as one job streamed from here, so a store costs three Bulk
-- jobs whatever its size and no worker holds its history in memory. Rows are
-- keyed by what they upsert, so a sale read again replaces its own rows; the
-- staging of a location is cleared when its import's jobs are done.

-- The rows to upload: step is 'sales', 'lines' or 'payments'; fields are the
-- CSV columns of the row (a JSON null is written as #N/A), kept as json
-- rather than jsonb: written once and read once, as text. The key puts a
-- sale's rows together: a sale read again drops them by key, and a job's
-- rows stream out in key order, a parent's children together (which keeps
-- Salesforce's parallel batches from locking the same parent).
CREATE TABLE bulk_rows (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    location  text NOT NULL,
    step      text NOT NULL CHECK (step IN ('sales', 'lines', 'payments')),
    sale_id   text NOT NULL,
    ls_id     text NOT NULL,
    fields    json NOT NULL,
    PRIMARY KEY (tenant_id, location, step, sale_id, ls_id)
);

-- What the end of the import needs of each staged sale: its hash and label
-- for the link and event, the event's detail, the Salesforce id the sales
-- job gave it, and whether a job refused any of its rows.
CREATE TABLE bulk_sales (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    location  text NOT NULL,
    sale_id   text NOT NULL,
    hash      text NOT NULL,
    label     text NOT NULL DEFAULT '',
    detail    json NOT NULL DEFAULT '{}'::json,
    sf_id     text NOT NULL DEFAULT '',
    failed    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, location, sale_id)
);
