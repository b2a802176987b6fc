package sync

import (
	"bufio"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/tandemsync/tandem/jobs/ledger"
)

// Staged records are encoded with the columns seen so far: a column a later
// sale brings (in the same batch or a later one) is appended, a record
// staged before it is padded with empty fields on upload, and the job's CSV reads back as if every record had
// been written with every column (a missing one empty, a nil #N/A), quoted
// values with commas and newlines included.
func TestStagedRecordsPadded(t *testing.T) {
	t.Parallel()
	bs := &bulkState{}
	stage := func(rows ...map[string]any) []ledger.StagedSale {
		t.Helper()
		sales := make([]ledger.StagedSale, len(rows))
		enc := bs.newRowEncoder()
		for i, f := range rows {
			sales[i].SaleID = f["Id__c"].(string)
			if err := enc.add([]bulkRow{{step: bulkLines, fields: f}}); err != nil {
				t.Fatal(err)
			}
		}
		enc.set(sales)
		return sales
	}
	first := stage(map[string]any{"Id__c": "1", "Note__c": "a, \"b\"\nc"}, map[string]any{"Id__c": "2", "Note__c": nil, "Cost__c": "1.5"})
	second := stage(map[string]any{"Id__c": "3", "Qty__c": 2, "Note__c": "d"})
	cols := bs.Cols[bulkLines]
	if !slices.Equal(cols, []string{"Id__c", "Note__c", "Cost__c", "Qty__c"}) {
		t.Fatalf("columns %v", cols)
	}
	if len(first[0].CSV[bulkSales]) != 0 || len(first[0].CSV[bulkPayments]) != 0 {
		t.Errorf("records staged for steps without rows: %q", first[0].CSV)
	}
	var out strings.Builder
	buf := bufio.NewWriter(&out)
	n := 0
	for _, s := range slices.Concat(first, second) {
		k, err := writePadded(buf, []byte(s.CSV[bulkLines]), len(cols))
		if err != nil {
			t.Fatal(err)
		}
		n += k
	}
	if err := buf.Flush(); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("%d records written, want 3", n)
	}
	got, err := csv.NewReader(strings.NewReader(out.String())).ReadAll()
	if err != nil {
		t.Fatalf("%v in %q", err, out.String())
	}
	want := [][]string{{"1", "a, \"b\"\nc", "", ""}, {"2", "#N/A", "1.5", ""}, {"3", "d", "", "2"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("records %q, want %q", got, want)
	}
	if _, err := writePadded(buf, []byte(second[0].CSV[bulkLines]), 3); err == nil {
		t.Error("a record wider than the job's columns was written")
	}
	if _, err := writePadded(buf, []byte("1,a"), 2); err == nil {
		t.Error("a record without its newline was written")
	}
}
