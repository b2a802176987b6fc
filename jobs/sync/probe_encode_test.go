package sync

import (
	"errors"
	"testing"
	"time"
)

func TestProbeEncoding(t *testing.T) {
	t.Parallel()
	after := time.Date(2026, 12, 7, 12, 0, 0, 123456789, time.UTC)
	for _, p := range []probe{
		{LS: "Customer"},
		{LS: "Customer", After: after},
		{LS: "Sale", Shop: "12", Since: after.AddDate(0, 0, -30), After: after},
		{Object: "Account", After: after.In(time.FixedZone("PST", -8*3600))},
	} {
		s := p.encode()
		got, err := parseProbe(s)
		if err != nil {
			t.Errorf("parseProbe(%q): %v", s, err)
			continue
		}
		if got.LS != p.LS || got.Shop != p.Shop || got.Object != p.Object || !got.Since.Equal(p.Since) || !got.After.Equal(p.After) {
			t.Errorf("parseProbe(%q) = %+v, want %+v", s, got, p)
		}
	}
	for _, bad := range []string{"", "ls=Sale object=Contact", "ls=", "shop=1", "ls=Sale after=yesterday", "ls=Sale colour=red", "ls Sale"} {
		if _, err := parseProbe(bad); !errors.Is(err, errBadProbe) {
			t.Errorf("parseProbe(%q) = %v, want errBadProbe", bad, err)
		}
	}
}
