package sandbox

import (
	"strings"
	"testing"
)

func TestIDChecksum(t *testing.T) {
	t.Parallel()
	tests := []struct{ id15, want string }{
		{"80120000000test", "AAA"}, // the sfid README example
		{"003RM0000000004", "YAA"}, // R and M upper case in block 1
		// Block 1 "001AB": upper case at 3 and 4 (24 → 'Y'); block 2
		// "CDE00": at 0..2 (7 → 'H'); block 3: none.
		{"001ABCDE0000000", "YHA"},
	}
	for _, tt := range tests {
		if got := idChecksum(tt.id15); got != tt.want {
			t.Errorf("idChecksum(%q) = %q, want %q", tt.id15, got, tt.want)
		}
	}
}

func TestNormalizeID(t *testing.T) {
	t.Parallel()
	id := makeID("003", 12345)
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{id, id, true},
		{id[:15], id, true},
		{strings.ToLower(id), id, true},                    // case lost: restored from the suffix
		{"80120000000TESTAAA", "80120000000testAAA", true}, // case restored
		{"80120000000testZZZ", "", false},                  // suffix marks a digit upper case
		{"003RM00000000", "", false},
		{"003RM0000000004YA!", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := normalizeID(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("normalizeID(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMakeIDShape(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for n := uint64(1); n < 5000; n += 7 {
		id := makeID("a00", n)
		if len(id) != 18 || !strings.HasPrefix(id, "a00RM") {
			t.Fatalf("makeID = %q: want 18 characters starting a00RM", id)
		}
		if got, ok := normalizeID(strings.ToLower(id)); !ok || got != id {
			t.Fatalf("normalizeID(lower(%q)) = %q, %v", id, got, ok)
		}
		if seen[strings.ToLower(id)] {
			t.Fatalf("id %s collides case-insensitively", id)
		}
		seen[strings.ToLower(id)] = true
	}
}
