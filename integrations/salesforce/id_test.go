package salesforce_test

import (
	"strings"
	"testing"

	"github.com/tandemsync/tandem/integrations/salesforce"
)

func TestID18(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "80120000000test", want: "80120000000testAAA"}, // the sfid README example
		{in: "80120000000testAAA", want: "80120000000testAAA"},
		{in: "003RM0000068xVC", want: "003RM0000068xVCYAY"},
		{in: "003RM0000068xVCYAY", want: "003RM0000068xVCYAY"},
		// Case lost by a case-insensitive store: the checksum restores it.
		{in: "003rm0000068xvcyay", want: "003RM0000068xVCYAY"},
		{in: "003RM0000068XVCYAY", want: "003RM0000068xVCYAY"},
		// Well formed but with a suffix that says "all lower case": the
		// suffix wins, as it is what survives case folding.
		{in: "003RM0000068xVCAAA", want: "003rm0000068xvcAAA"},
		{in: "003RM0000068xV", wantErr: true},
		{in: "003RM0000068xVC-", wantErr: true},
		{in: "003RM0000068x C", wantErr: true},
		{in: "003RM0000068xVCYA!", wantErr: true},
		{in: "00000000000000099A", wantErr: true}, // suffix marks a digit as upper case
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := salesforce.ID18(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ID18(%q) = %q, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ID18(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if id15, err := salesforce.ID15("003rm0000068xvcyay"); err != nil || id15 != "003RM0000068xVC" {
		t.Errorf("ID15 = %q, %v", id15, err)
	}
	if !salesforce.SameID("003RM0000068xVC", "003rm0000068XVCYAY") || salesforce.SameID("003RM0000068xVC", "003RM0000068xvC") {
		t.Error("SameID wrong")
	}
	if salesforce.ValidID(strings.Repeat("a", 16)) {
		t.Error("16 characters valid")
	}
}
