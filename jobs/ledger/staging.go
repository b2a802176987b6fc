package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"

	"github.com/jackc/pgx/v5"
)

// A sales history import is staged in the ledger (tables bulk_rows and
// bulk_sales) before it goes to Salesforce through Bulk API 2.0: the rows
// of each object are uploaded as one job, streamed from here, and the
// staging is written in the page that moves the stream's cursor, so a
// worker killed anywhere finds staging and cursor in step.

// Stage is what one page of an import writes to its location's staging.
type Stage struct {
	// Replace are sales read again whose staged rows are dropped (one
	// that cannot be sent any more); so are those of Sales, before Sales
	// and Rows are written. Each row's sale must be in Sales, once.
	Replace []string
	Sales   []StagedSale
	Rows    []StagedRow
	// Saved sets the Salesforce ids the sales job gave staged sales.
	Saved []StagedSale
	// Failed marks staged sales a job refused a row of: their lines and
	// payments are not uploaded, and the import does not mark them sent.
	Failed []string
	// Clear drops the location's whole staging (the import is done),
	// after the rest of the page.
	Clear bool
}

// StagedSale is what the end of an import needs of a staged sale.
type StagedSale struct {
	SaleID string
	Hash   string
	Label  string
	Detail map[string]any
	SFID   string
	Failed bool
}

// StagedRow is one row of a Bulk job: Step is the job's object ("sales",
// "lines", "payments"), LSID the row's Lightspeed id, SaleID its sale's.
type StagedRow struct {
	Step   string
	LSID   string
	SaleID string
	Fields map[string]any
}

func writeStage(ctx context.Context, tx pgx.Tx, k StreamKey, st *Stage) error {
	// pgx prepares its statements, and after a few runs Postgres may
	// settle on a generic plan made while the staging was small (a
	// sequential scan), which a store's staging, growing to hundreds of
	// thousands of rows, turns into seconds a batch: plan each time.
	if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
		return fmt.Errorf("plan staging: %w", err)
	}
	drop := slices.Clone(st.Replace)
	for _, s := range st.Sales {
		drop = append(drop, s.SaleID)
	}
	if len(drop) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM bulk_rows r USING unnest($3::text[]) AS d(id),
				unnest(ARRAY['sales', 'lines', 'payments']) AS s(step)
			WHERE r.tenant_id = $1 AND r.location = $2 AND r.step = s.step AND r.sale_id = d.id`,
			k.TenantID, k.Location, drop); err != nil {
			return fmt.Errorf("replace staged rows: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM bulk_sales b USING unnest($3::text[]) AS d(id)
			WHERE b.tenant_id = $1 AND b.location = $2 AND b.sale_id = d.id`,
			k.TenantID, k.Location, drop); err != nil {
			return fmt.Errorf("replace staged sales: %w", err)
		}
	}
	// With the sales' old rows gone, the new ones are copied in (COPY is
	// several times faster than an INSERT of the same rows).
	copies := []struct {
		table string
		cols  []string
		n     int
		row   func(i int) ([]any, error)
	}{
		{"bulk_sales", []string{"tenant_id", "location", "sale_id", "hash", "label", "detail"}, len(st.Sales),
			func(i int) ([]any, error) {
				s := st.Sales[i]
				raw, err := json.Marshal(s.Detail)
				return []any{k.TenantID, k.Location, s.SaleID, s.Hash, s.Label, string(raw)}, err
			}},
		{"bulk_rows", []string{"tenant_id", "location", "step", "sale_id", "ls_id", "fields"}, len(st.Rows),
			func(i int) ([]any, error) {
				r := st.Rows[i]
				raw, err := json.Marshal(r.Fields)
				return []any{k.TenantID, k.Location, r.Step, r.SaleID, r.LSID, string(raw)}, err
			}},
	}
	for _, c := range copies {
		if c.n == 0 {
			continue
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromSlice(c.n, c.row)); err != nil {
			return fmt.Errorf("stage %s: %w", c.table, err)
		}
	}
	if len(st.Saved) > 0 {
		ids, sfIDs := make([]string, len(st.Saved)), make([]string, len(st.Saved))
		for i, s := range st.Saved {
			ids[i], sfIDs[i] = s.SaleID, s.SFID
		}
		if _, err := tx.Exec(ctx, `
			UPDATE bulk_sales b SET sf_id = t.f FROM unnest($3::text[], $4::text[]) AS t(s, f)
			WHERE b.tenant_id = $1 AND b.location = $2 AND b.sale_id = t.s`,
			k.TenantID, k.Location, ids, sfIDs); err != nil {
			return fmt.Errorf("save staged sales' ids: %w", err)
		}
	}
	if len(st.Failed) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE bulk_sales b SET failed = true FROM unnest($3::text[]) AS f(id)
			WHERE b.tenant_id = $1 AND b.location = $2 AND b.sale_id = f.id`,
			k.TenantID, k.Location, st.Failed); err != nil {
			return fmt.Errorf("fail staged sales: %w", err)
		}
	}
	if st.Clear {
		if err := clearStaging(ctx, tx, k); err != nil {
			return err
		}
	}
	return nil
}

func clearStaging(ctx context.Context, tx pgx.Tx, k StreamKey) error {
	if _, err := tx.Exec(ctx, `DELETE FROM bulk_rows WHERE tenant_id = $1 AND location = $2`, k.TenantID, k.Location); err != nil {
		return fmt.Errorf("clear staged rows: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM bulk_sales WHERE tenant_id = $1 AND location = $2`, k.TenantID, k.Location); err != nil {
		return fmt.Errorf("clear staged sales: %w", err)
	}
	return nil
}

// ClearStaging drops a location's staged import (an import given up, or
// started over).
func (s *Store) ClearStaging(ctx context.Context, k StreamKey) error {
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return clearStaging(ctx, tx, k) }); err != nil {
		return fmt.Errorf("ledger: clear staging of %s: %w", k, err)
	}
	return nil
}

// StagedColumns returns the column names of a step's staged rows, sorted;
// withoutFailed leaves out the rows of sales marked failed (none: no
// columns, nothing to upload).
func (s *Store) StagedColumns(ctx context.Context, k StreamKey, step string, withoutFailed bool) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT json_object_keys(r.fields) AS c FROM bulk_rows r
		WHERE r.tenant_id = $1 AND r.location = $2 AND r.step = $3 AND NOT ($4 AND `+saleFailed+`)
		ORDER BY c`, k.TenantID, k.Location, step, withoutFailed)
	if err != nil {
		return nil, fmt.Errorf("ledger: staged %s columns of %s: %w", step, k, err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("ledger: staged %s columns of %s: %w", step, k, err)
	}
	return cols, nil
}

// saleFailed is true for a staged row (r) whose sale is marked failed.
const saleFailed = `EXISTS (SELECT 1 FROM bulk_sales b
	WHERE b.tenant_id = r.tenant_id AND b.location = r.location AND b.sale_id = r.sale_id AND b.failed)`

// StagedRows yields a step's staged rows one at a time, straight from the
// query (never all in memory), a sale's together (in sale id order). withoutFailed leaves
// out the rows of sales marked failed. Stopping early closes the query.
func (s *Store) StagedRows(ctx context.Context, k StreamKey, step string, withoutFailed bool) iter.Seq2[StagedRow, error] {
	return func(yield func(StagedRow, error) bool) {
		rows, err := s.pool.Query(ctx, `SELECT r.ls_id, r.sale_id, r.fields FROM bulk_rows r
			WHERE r.tenant_id = $1 AND r.location = $2 AND r.step = $3
			  AND NOT ($4 AND `+saleFailed+`)
			ORDER BY r.sale_id, r.ls_id`, k.TenantID, k.Location, step, withoutFailed)
		if err != nil {
			yield(StagedRow{}, fmt.Errorf("ledger: staged %s rows of %s: %w", step, k, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			r := StagedRow{Step: step}
			var raw []byte
			if err := rows.Scan(&r.LSID, &r.SaleID, &raw); err != nil {
				yield(StagedRow{}, fmt.Errorf("ledger: staged %s rows of %s: %w", step, k, err))
				return
			}
			// Numbers stay as written (json.Number): a price is never a
			// float on its way to Salesforce.
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if err := d.Decode(&r.Fields); err != nil {
				yield(StagedRow{}, fmt.Errorf("ledger: decode staged %s row %s: %w", step, r.LSID, err))
				return
			}
			if !yield(r, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(StagedRow{}, fmt.Errorf("ledger: staged %s rows of %s: %w", step, k, err))
		}
	}
}

// StagedSales returns up to limit staged sales after the sale id after, in
// sale id order (a keyset page): those not failed, or all.
func (s *Store) StagedSales(ctx context.Context, k StreamKey, after string, limit int, all bool) ([]StagedSale, error) {
	return s.stagedSales(ctx, `SELECT sale_id, hash, label, detail, sf_id, failed FROM bulk_sales
		WHERE tenant_id = $1 AND location = $2 AND sale_id > $3 AND ($5 OR NOT failed)
		ORDER BY sale_id LIMIT $4`, k.TenantID, k.Location, after, limit, all)
}

// StagedSalesByID returns the given staged sales, keyed by sale id.
func (s *Store) StagedSalesByID(ctx context.Context, k StreamKey, ids []string) (map[string]StagedSale, error) {
	list, err := s.stagedSales(ctx, `SELECT sale_id, hash, label, detail, sf_id, failed FROM bulk_sales
		JOIN unnest($3::text[]) AS want(id) ON sale_id = want.id
		WHERE tenant_id = $1 AND location = $2`, k.TenantID, k.Location, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]StagedSale, len(list))
	for _, st := range list {
		out[st.SaleID] = st
	}
	return out, nil
}

func (s *Store) stagedSales(ctx context.Context, sql string, args ...any) ([]StagedSale, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err == nil {
		var out []StagedSale
		// The columns are StagedSale's fields, in order.
		if out, err = pgx.CollectRows(rows, pgx.RowToStructByPos[StagedSale]); err == nil {
			return out, nil
		}
	}
	return nil, fmt.Errorf("ledger: read staged sales: %w", err)
}

// StagedCount returns how many sales and rows a location has staged.
func (s *Store) StagedCount(ctx context.Context, k StreamKey) (sales, rows int, err error) {
	err = s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM bulk_sales WHERE tenant_id = $1 AND location = $2),
		(SELECT count(*) FROM bulk_rows WHERE tenant_id = $1 AND location = $2)`, k.TenantID, k.Location).Scan(&sales, &rows)
	if err != nil {
		return 0, 0, fmt.Errorf("ledger: count staging of %s: %w", k, err)
	}
	return sales, rows, nil
}
