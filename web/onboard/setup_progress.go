package onboard

import "github.com/tandemsync/tandem/tenants/setup"

// Step is one step of onboarding, in the order the wizard walks them.
type Step string

// The steps. The first two are the connect helper's pages; the rest are
// the setup wizard's. The data model comes before the Salesforce setup
// check: what the check looks for depends on the model.
const (
	StepConnectLightspeed Step = "connect_lightspeed"
	StepConnectSalesforce Step = "connect_salesforce"
	StepDataModel         Step = "data_model"
	StepSalesforceFields  Step = "salesforce_fields"
	StepLocations         Step = "locations"
	StepHistory           Step = "history"
)

// Steps lists every step in order.
func Steps() []Step {
	return []Step{StepConnectLightspeed, StepConnectSalesforce, StepDataModel, StepSalesforceFields, StepLocations, StepHistory}
}

// Needs returns the connections a step cannot be done without.
func (s Step) Needs() (lightspeed, salesforce bool) {
	switch s {
	case StepSalesforceFields, StepDataModel:
		return false, true
	case StepLocations:
		return true, false
	}
	return false, false
}

// State is where a tenant stands, as Progress needs it.
type State struct {
	LightspeedConnected bool
	SalesforceConnected bool
	Settings            setup.Settings
	// EnabledLocations counts the shops the merchant enabled.
	EnabledLocations int
}

// StepState is one step's progress.
type StepState struct {
	Step Step
	Done bool
	// Blocked is set when the step needs a connection that is missing.
	Blocked bool
}

// Progress returns every step's state.
func Progress(st State) []StepState {
	out := make([]StepState, 0, len(Steps()))
	for _, step := range Steps() {
		ls, sf := step.Needs()
		ss := StepState{Step: step, Blocked: (ls && !st.LightspeedConnected) || (sf && !st.SalesforceConnected)}
		switch step {
		case StepConnectLightspeed:
			ss.Done = st.LightspeedConnected
		case StepConnectSalesforce:
			ss.Done = st.SalesforceConnected
		case StepSalesforceFields:
			c := st.Settings.SalesforceCheck
			ss.Done = st.SalesforceConnected && c.Complete() && c.Model == st.Settings.Model()
		case StepDataModel:
			ss.Done = st.Settings.DataModel != ""
		case StepLocations:
			ss.Done = st.Settings.LocationsSaved && st.EnabledLocations > 0
		case StepHistory:
			ss.Done = st.Settings.History != setup.HistoryUnset
		}
		out = append(out, ss)
	}
	return out
}

// Next returns the first step not done, and false when all are.
func Next(steps []StepState) (Step, bool) {
	for _, s := range steps {
		if !s.Done {
			return s.Step, true
		}
	}
	return "", false
}
