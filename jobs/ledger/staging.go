package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"

	"github.com/jackc/pgx/v5"
)

// A sales history import is staged in the ledger (table bulk_sales)
// before it goes to Salesforce through Bulk API 2.0: the rows of each
// object are uploaded as one job, streamed from here, and the staging is
// written in the page that moves the stream's cursor, so a worker killed
// anywhere finds staging and cursor in step. A staged sale holds its rows
// for the three jobs already encoded as CSV records, so staging costs a
// row per sale and the upload sends the text as stored.

// Stage is what one page of an import writes to its location's staging.
type Stage struct {
	// Replace are sales read again whose staging is dropped (one that
	// cannot be sent any more); so is that of Sales, before Sales are
	// written.
	Replace []string
	Sales   []StagedSale
	// Saved sets the Salesforce ids the sales job gave staged sales.
	Saved []StagedSale
	// Failed marks staged sales a job refused a row of: their lines and
	// payments are not uploaded, and the import does not mark them sent.
	Failed []string
	// Clear drops the location's whole staging (the import is done),
	// after the rest of the page.
	Clear bool
}

// StagedSale is a staged sale: its rows for the jobs, and what the end of
// an import needs of it.
type StagedSale struct {
	SaleID string
	Hash   string
	Label  string
	Detail map[string]any
	SFID   string
	Failed bool
	// CSV are the sale's rows for each job, by step ("sales", "lines",
	// "payments"): CSV records without the header, each ended by a
	// newline. Written, never read back but by StagedCSV.
	CSV map[string]string
}

// The steps (Bulk jobs) a staged sale has rows for.
const (
	StepSales    = "sales"
	StepLines    = "lines"
	StepPayments = "payments"
)

// StagedSteps are the steps, in the order the jobs run.
var StagedSteps = [...]string{StepSales, StepLines, StepPayments}

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
		if _, err := tx.Exec(ctx, `DELETE FROM bulk_sales b USING unnest($3::text[]) AS d(id)
			WHERE b.tenant_id = $1 AND b.location = $2 AND b.sale_id = d.id`,
			k.TenantID, k.Location, drop); err != nil {
			return fmt.Errorf("replace staged sales: %w", err)
		}
	}
	// With the sales' old staging gone, the new is copied in (COPY is
	// several times faster than an INSERT of the same rows).
	if len(st.Sales) > 0 {
		cols := []string{"tenant_id", "location", "sale_id", "hash", "label", "detail", "sales_csv", "lines_csv", "payments_csv"}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"bulk_sales"}, cols, pgx.CopyFromSlice(len(st.Sales), func(i int) ([]any, error) {
			s := st.Sales[i]
			raw, err := json.Marshal(s.Detail)
			return []any{k.TenantID, k.Location, s.SaleID, s.Hash, s.Label, string(raw),
				s.CSV[StepSales], s.CSV[StepLines], s.CSV[StepPayments]}, err
		}))
		if err != nil {
			return fmt.Errorf("stage sales: %w", err)
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

// stagedCSV is the column of a step's staged CSV records.
func stagedCSV(step string) (string, error) {
	if !slices.Contains(StagedSteps[:], step) {
		return "", fmt.Errorf("ledger: no staging step %q", step)
	}
	return step + "_csv", nil
}

// HasStaged reports whether any staged sale has rows for a step;
// withoutFailed leaves out the sales marked failed.
func (s *Store) HasStaged(ctx context.Context, k StreamKey, step string, withoutFailed bool) (bool, error) {
	col, err := stagedCSV(step)
	if err != nil {
		return false, err
	}
	var ok bool
	err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM bulk_sales
		WHERE tenant_id = $1 AND location = $2 AND `+col+` <> '' AND NOT ($3 AND failed))`,
		k.TenantID, k.Location, withoutFailed).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("ledger: staged %s rows of %s: %w", step, k, err)
	}
	return ok, nil
}

// StagedCSV yields the staged sales' CSV records for a step, a sale's at a
// time in sale id order, straight from the query (never all in memory);
// withoutFailed leaves out the sales marked failed. The bytes yielded are
// valid only until the next; stopping early closes the query.
func (s *Store) StagedCSV(ctx context.Context, k StreamKey, step string, withoutFailed bool) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		col, err := stagedCSV(step)
		if err != nil {
			yield(nil, err)
			return
		}
		rows, err := s.pool.Query(ctx, `SELECT `+col+` FROM bulk_sales
			WHERE tenant_id = $1 AND location = $2 AND `+col+` <> '' AND NOT ($3 AND failed)
			ORDER BY sale_id`, k.TenantID, k.Location, withoutFailed)
		if err != nil {
			yield(nil, fmt.Errorf("ledger: staged %s rows of %s: %w", step, k, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			// The raw value is the text as stored (text comes back as
			// is in either format), without a copy.
			if !yield(rows.RawValues()[0], nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, fmt.Errorf("ledger: staged %s rows of %s: %w", step, k, err))
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
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (StagedSale, error) {
			var st StagedSale
			err := row.Scan(&st.SaleID, &st.Hash, &st.Label, &st.Detail, &st.SFID, &st.Failed)
			return st, err
		})
		if err == nil {
			return out, nil
		}
	}
	return nil, fmt.Errorf("ledger: read staged sales: %w", err)
}

// StagedCount returns how many sales a location has staged, and of them
// how many have lines staged.
func (s *Store) StagedCount(ctx context.Context, k StreamKey) (sales, withLines int, err error) {
	err = s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE lines_csv <> '') FROM bulk_sales
		WHERE tenant_id = $1 AND location = $2`, k.TenantID, k.Location).Scan(&sales, &withLines)
	if err != nil {
		return 0, 0, fmt.Errorf("ledger: count staging of %s: %w", k, err)
	}
	return sales, withLines, nil
}
