package sandbox

import (
	"testing"
	"time"
)

func TestDecimalFormatting(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"20", "20"}, {"20.00", "20"}, {"317.10", "317.1"}, {"0.0825", "0.0825"}, {"-9.99", "-9.99"},
		{"11.4860025", "11.4860025"}, {"0", "0"}, {".5", "0.5"}, {"+3", "3"},
	}
	for _, tt := range tests {
		d, err := parseDec(tt.in)
		if err != nil {
			t.Fatalf("parseDec(%q): %v", tt.in, err)
		}
		if got := d.String(); got != tt.want {
			t.Errorf("parseDec(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "abc", "1.2.3", "1.23456789", "1e5", "-"} {
		if _, err := parseDec(bad); err == nil {
			t.Errorf("parseDec(%q) accepted", bad)
		}
	}
	price, _ := parseDec("9.99")
	rate, _ := parseDec("0.09975")
	if got := price.mul(rate).String(); got != "0.9965025" {
		t.Errorf("9.99 × 0.09975 = %s", got)
	}
	for _, tc := range []struct{ a, b, want string }{
		{"-9.99", "0.09975", "-0.9965025"}, {"-2", "-3.5", "7"}, {"0", "-5", "0"},
		{"1000000", "100000", "100000000000"}, // the intermediate product needs 128 bits
	} {
		a, _ := parseDec(tc.a)
		b, _ := parseDec(tc.b)
		if got := a.mul(b).String(); got != tc.want {
			t.Errorf("%s × %s = %s, want %s", tc.a, tc.b, got, tc.want)
		}
	}
	for in, want := range map[string]string{"2.4995": "2.5", "4.9865025": "4.99", "-0.005": "-0.01", "0.004": "0"} {
		d, _ := parseDec(in)
		if got := d.roundCents().String(); got != want {
			t.Errorf("roundCents(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestJSONStringEscaping(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a/b":           `"a\/b"`,
		"Zoë \"Z\"":     `"Zoë \"Z\""`,
		"line\nbreak\t": `"line\nbreak\t"`,
		"\x01":          `"\u0001"`,
		"bad\xffutf8":   `"bad\ufffdutf8"`,
		"\u2028":        `"\u2028"`,
	} {
		if got := string(appendJSONString(nil, in)); got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestLimiterDrainsWithTime(t *testing.T) {
	t.Parallel()
	l := newLimiter(10, 1.5, 100)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := l.take(1, "c", 9.5, now)
	if d.limited != "" || d.level != 9.5 {
		t.Fatalf("first: %+v", d)
	}
	d = l.take(1, "c", 4, now.Add(time.Second)) // 9.5 - 1.5 = 8, +4 = 12: overflow allowed once
	if d.limited != "" || d.level != 12 {
		t.Fatalf("overflow: %+v", d)
	}
	d = l.take(1, "c", 1, now.Add(2*time.Second)) // 10.5: refused; (0.5)/1.5 → 1 s
	if d.limited != limitBucket || d.retryAfter != 1 {
		t.Fatalf("refused: %+v", d)
	}
	// Another client of the same account has its own bucket.
	if d := l.take(1, "other", 1, now.Add(2*time.Second)); d.limited != "" || d.level != 1 {
		t.Errorf("other client: %+v", d)
	}
	if d := l.take(1, "c", 1, now.Add(time.Hour)); d.limited != "" || d.level != 1 {
		t.Errorf("after draining: %+v", d)
	}
}

func TestNestedEntityCount(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]int{
		`{"firstName":"A"}`: 0,
		`{"Contact":{"Phones":{"ContactPhone":[{"number":"1","useType":"Home"},{"number":"2","useType":"Work"}]}}}`: 3,
		`{"SaleLines":{"SaleLine":[{"itemID":1},{"itemID":2}]},"SalePayments":{"SalePayment":{"amount":1}}}`:        3,
		`not json`: 0,
	} {
		if got := nestedEntities([]byte(body)); got != want {
			t.Errorf("nestedEntities(%s) = %d, want %d", body, got, want)
		}
	}
}
