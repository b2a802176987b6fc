-- A staged sales import keeps each sale's rows for the three Bulk jobs in
-- the sale's own row, already encoded as the jobs' CSV records (one text
-- per job, a record a line), instead of a row of json per record in
-- bulk_rows: staging a batch costs a row, an index entry and a foreign key
-- check per sale rather than per record, and the upload streams the text
-- as stored. The jobs' columns are kept in the import's cursor, written
-- with the staging; a record encoded before a column was first seen is
-- shorter, and the upload pads it with empty fields (no value).
--
-- An import staged the old way is started over by its next run (the
-- cursor's staging version changed): what was staged is dropped.
DROP TABLE bulk_rows;
DELETE FROM bulk_sales;
ALTER TABLE bulk_sales
    ADD COLUMN sales_csv    text NOT NULL DEFAULT '',
    ADD COLUMN lines_csv    text NOT NULL DEFAULT '',
    ADD COLUMN payments_csv text NOT NULL DEFAULT '';
