package lightspeed

import (
	"testing"
	"time"
)

func TestStampDecoding(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 12, 0, 1, 0, time.UTC)
	for _, c := range []struct {
		name, body string
		want       Stamp
		bad        bool
	}{
		{"both, other fields skipped", `{"Sale":{"saleID":"7","timeStamp":"2026-12-07T12:00:01+00:00","SaleLines":{"SaleLine":[{"a":1}]},"updatetime":"2026-12-07T13:00:01+01:00"}}`,
			Stamp{TimeStamp: at, UpdateTime: at}, false},
		{"a list, names in any case", `{"Customer":[{"TIMESTAMP":"2026-12-07 12:00:01"},{"timeStamp":null}]}`, Stamp{TimeStamp: at}, false},
		{"no times", `{"Sale":{"saleID":"7","note":{"x":[1,2]}}}`, Stamp{}, false},
		{"not an object", `{"Sale":["x"]}`, Stamp{}, true},
		{"a time that is not one", `{"Sale":{"timeStamp":"yesterday"}}`, Stamp{}, true},
	} {
		var p page[Stamp]
		p.key = "Sale"
		if c.name == "a list, names in any case" {
			p.key = "Customer"
		}
		err := unmarshal([]byte(c.body), &p)
		if c.bad {
			if err == nil {
				t.Errorf("%s: no error", c.name)
			}
			continue
		}
		if err != nil || len(p.items) == 0 {
			t.Errorf("%s: %d items, %v", c.name, len(p.items), err)
			continue
		}
		if got := p.items[0]; !got.TimeStamp.Equal(c.want.TimeStamp) || !got.UpdateTime.Equal(c.want.UpdateTime) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
