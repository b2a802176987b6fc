package web

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/web/onboard"
	"github.com/tandemsync/tandem/web/ui"
)

// auditTimeFormat is how the staff activity log shows times: UTC, to the
// second, and saying so.
const auditTimeFormat = "2 Jan 2006 15:04:05 UTC"

// auditRow describes one audit entry in words for the staff activity log:
// who did what, to which provider, and the detail that matters.
func auditRow(a tenants.AuditRecord) ui.AuditRow {
	d := a.Detail
	str := func(k string) string {
		v, _ := d[k].(string)
		return v
	}
	r := ui.AuditRow{
		When:  a.CreatedAt.UTC().Format(auditTimeFormat),
		Actor: a.ActorEmail,
		IP:    a.IP,
	}
	if r.Actor == "" {
		r.Actor = "Tandem"
	}
	if p := str("provider"); p != "" {
		r.Provider = onboard.ProviderName(p)
	}
	account := func() string {
		switch name, id := str("account_name"), str("account"); {
		case name != "" && id != "":
			return fmt.Sprintf("%s (%s)", name, id)
		case name != "":
			return name
		}
		return str("account")
	}
	switch a.Action {
	case tenants.ActionSignUp:
		r.Action = "Signed up, creating this business"
	case tenants.ActionLogin:
		r.Action = "Logged in"
	case tenants.ActionStaffViewTenant:
		r.Action = "Support staff opened this business"
		if str("page") != "" {
			r.Detail = str("page")
		}
	case onboard.ActionConnect:
		r.Action, r.Detail = "Connected", "to "+account()
	case onboard.ActionReconnect:
		r.Action, r.Detail = "Reconnected", "to "+account()
	case onboard.ActionDisconnect:
		r.Action, r.Detail = "Disconnected", "from "+account()
		if revoked, ok := d["revoked"].(bool); ok && !revoked {
			r.Detail += "; revoking access at the provider failed"
		}
	case onboard.ActionRefusedOtherAccount:
		r.Action = "Refused a different account"
		r.Detail = fmt.Sprintf("signed in to %s, but this business uses %s", str("new_name"), str("previous_name"))
	case onboard.ActionReset:
		r.Action = "Reset to another account"
		r.Detail = fmt.Sprintf("from %s to %s", str("previous_name"), str("new_name"))
	case onboard.ActionRefreshDiscovery:
		r.Action = "Read the account again"
		if n, ok := d["api_calls"].(float64); ok {
			r.Detail = fmt.Sprintf("%d API calls", int(n))
		}
	case tenants.ActionNeedsReauth:
		r.Action, r.Detail = "Marked as needing to be reconnected", str("reason")
	case setup.ActionSetupChange:
		r.Action, r.Detail = "Changed setup", setupChangeWords(d)
	case tenants.ActionTenantRename:
		r.Action, r.Detail = "Renamed the business", fmt.Sprintf("from %s to %s", str("from"), str("to"))
	case tenants.ActionPasswordResetRequest:
		r.Action = "Asked for a password reset link"
	case tenants.ActionPasswordReset:
		r.Action, r.Detail = "Set a new password with a reset link", "every session ended"
	case tenants.ActionPasswordChange:
		r.Action, r.Detail = "Changed their password", "other sessions ended"
	case tenants.ActionEmailChange:
		r.Action, r.Detail = "Changed their email", fmt.Sprintf("from %s to %s", str("from"), str("to"))
	case tenants.ActionMemberInvite:
		r.Action, r.Detail = "Invited "+str("email"), "as "+str("role")
	case tenants.ActionInviteRevoke:
		r.Action = "Cancelled the invitation of " + str("email")
	case tenants.ActionInviteAccept:
		r.Action, r.Detail = "Joined as "+str("role"), "invited by "+str("invited_by")
	case tenants.ActionMemberRole:
		r.Action, r.Detail = "Changed the role of "+str("email"), fmt.Sprintf("from %s to %s", str("previous_role"), str("role"))
	case tenants.ActionMemberRemove:
		r.Action, r.Detail = "Removed "+str("email"), "was "+str("previous_role")
	case tenants.ActionMemberLeave:
		r.Action, r.Detail = "Left the business", "was "+str("previous_role")
	case tenants.ActionSyncRetry:
		r.Action = "Retried failed records"
		if str("record") != "" {
			r.Action, r.Detail = "Retried a failed record", streamWords(d)+": "+cmpOr(str("label"), str("record"))
		} else if n, ok := d["records"].(float64); ok {
			r.Detail = fmt.Sprintf("all of them: %d", int(n))
		}
	case tenants.ActionSyncResync:
		r.Action, r.Detail = "Sent a record again", streamWords(d)+": "+str("record")
	case tenants.ActionSyncPause:
		r.Action, r.Detail = "Paused a stream", streamWords(d)
	case tenants.ActionSyncResume:
		r.Action, r.Detail = "Resumed a stream", streamWords(d)
	case tenants.ActionSyncReset:
		r.Action, r.Detail = "Restarted a stream from a date", streamWords(d)+" from "+str("from")
	default:
		// An action this list does not know yet: its code and raw detail,
		// rather than nothing.
		r.Action = a.Action
		if len(d) > 0 {
			b, _ := json.Marshal(d)
			r.Detail = string(b)
		}
	}
	if why := str("why"); why != "" {
		// Staff acting on a merchant's behalf say why.
		r.Detail = strings.TrimPrefix(r.Detail+"; why: "+why, "; ")
	}
	return r
}

// setupLabels name the settings a setup change can touch.
var setupLabels = map[string]string{
	"data_model":        "data model",
	"customer_target":   "customers as",
	"history":           "sales history",
	"locations_saved":   "stores saved",
	"salesforce_check":  "Salesforce setup check",
	"sf_existing_to_ls": "existing Salesforce customers to Lightspeed",
}

// setupChangeWords describes a setup change: which settings went from what
// to what, or which stores were turned on and off.
func setupChangeWords(d map[string]any) string {
	if locs, ok := d["locations"].(map[string]any); ok {
		list := func(k string) string {
			xs, _ := locs[k].([]any)
			if len(xs) == 0 {
				return "none"
			}
			s := make([]string, len(xs))
			for i, x := range xs {
				s[i] = fmt.Sprint(x)
			}
			return strings.Join(s, ", ")
		}
		return fmt.Sprintf("stores turned on: %s; turned off: %s", list("enabled"), list("disabled"))
	}
	changed, _ := d["changed"].(map[string]any)
	keys := make([]string, 0, len(changed))
	for k := range changed {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		label := setupLabels[k]
		if label == "" {
			label = strings.ReplaceAll(k, "_", " ")
		}
		ch, _ := changed[k].(map[string]any)
		if k == "salesforce_check" {
			parts = append(parts, label+" run"+checkWords(ch["to"]))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %s → %s", label, valueWords(ch["from"]), valueWords(ch["to"])))
	}
	return strings.Join(parts, "; ")
}

// checkWords summarises a recorded setup check ("complete", "3 missing").
func checkWords(v any) string {
	m, _ := v.(map[string]any)
	if m == nil {
		return ""
	}
	if c, _ := m["complete"].(bool); c {
		return " (complete)"
	}
	if n, ok := m["missing"].(float64); ok {
		return fmt.Sprintf(" (%d missing)", int(n))
	}
	return " (incomplete)"
}

func valueWords(v any) string {
	switch x := v.(type) {
	case nil:
		return "not set"
	case string:
		if x == "" {
			return "not set"
		}
		return x
	case bool:
		if x {
			return "yes"
		}
		return "no"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// streamWords names the stream of a sync action, with its store when it
// has one.
func streamWords(d map[string]any) string {
	stream, _ := d["stream"].(string)
	if loc, _ := d["location"].(string); loc != "" {
		return stream + " (store " + loc + ")"
	}
	return stream
}
