package onboard_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/web/onboard"
)

func TestProgress(t *testing.T) {
	t.Parallel()
	complete := &setup.CheckResult{Model: setup.ModelClassic, Items: []setup.CheckItem{{Key: "x", Status: setup.StatusPresent}}}
	tests := []struct {
		name     string
		st       onboard.State
		next     onboard.Step
		blocked  []onboard.Step
		finished bool
	}{
		{"new tenant", onboard.State{}, onboard.StepConnectLightspeed,
			[]onboard.Step{onboard.StepDataModel, onboard.StepSalesforceFields, onboard.StepLocations}, false},
		{"lightspeed only", onboard.State{LightspeedConnected: true}, onboard.StepConnectSalesforce,
			[]onboard.Step{onboard.StepDataModel, onboard.StepSalesforceFields}, false},
		// The data model comes first: the check depends on it.
		{"both connected", onboard.State{LightspeedConnected: true, SalesforceConnected: true}, onboard.StepDataModel, nil, false},
		{"model chosen", onboard.State{LightspeedConnected: true, SalesforceConnected: true,
			Settings: setup.Settings{DataModel: setup.ModelClassic}}, onboard.StepSalesforceFields, nil, false},
		{"check for another model", onboard.State{LightspeedConnected: true, SalesforceConnected: true,
			Settings: setup.Settings{DataModel: setup.ModelCustom, SalesforceCheck: complete}}, onboard.StepSalesforceFields, nil, false},
		{"locations saved but none enabled", onboard.State{LightspeedConnected: true, SalesforceConnected: true,
			Settings: setup.Settings{DataModel: setup.ModelClassic, SalesforceCheck: complete, LocationsSaved: true}}, onboard.StepLocations, nil, false},
		{"all done", onboard.State{LightspeedConnected: true, SalesforceConnected: true, EnabledLocations: 1,
			Settings: setup.Settings{DataModel: setup.ModelClassic, SalesforceCheck: complete, LocationsSaved: true, History: setup.HistoryNone}}, "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			steps := onboard.Progress(tt.st)
			next, more := onboard.Next(steps)
			if next != tt.next || more == tt.finished {
				t.Errorf("Next = %q, %v; want %q, %v", next, more, tt.next, !tt.finished)
			}
			var blocked []onboard.Step
			for _, s := range steps {
				if s.Blocked {
					blocked = append(blocked, s.Step)
				}
			}
			if diff := cmp.Diff(tt.blocked, blocked); diff != "" {
				t.Errorf("blocked (-want +got):\n%s", diff)
			}
		})
	}
}
