package onboard

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"time"
)

// StateTTL is how long an authorization may take, from the Connect click to
// the callback: long enough to log in at the provider, short enough that a
// state lying in a browser history is worthless.
const StateTTL = 10 * time.Minute

// maxUsedStates bounds the used states a session remembers (to tell a
// replay from a forgery).
const maxUsedStates = 8

// Pending is one authorization in flight: what the callback checks the
// provider's redirect against. It lives in the server-side session only
// (the browser holds a random session id), so the PKCE verifier never
// reaches the browser.
type Pending struct {
	Provider string    `json:"provider"`
	TenantID string    `json:"tenant"`
	State    string    `json:"state"`
	Verifier string    `json:"verifier"`
	Started  time.Time `json:"started"`
	// Salesforce: the environment chosen, what was typed as My Domain and
	// the login URL they resolved to (the code is exchanged there).
	Environment string `json:"env,omitempty"`
	MyDomain    string `json:"my_domain,omitempty"`
	LoginURL    string `json:"login_url,omitempty"`
	// ResetTo is the account the merchant confirmed replacing the previous
	// one with (the reset runs only if the callback brings that account).
	ResetTo string `json:"reset_to,omitempty"`
}

// Flows is a session's OAuth bookkeeping: at most one pending authorization
// per provider, and digests of the states recently used so a replayed
// callback is told apart from a forged one. Store it in the session with
// Encode and read it back with DecodeFlows.
type Flows struct {
	Pending map[string]Pending `json:"pending,omitempty"`
	Used    []string           `json:"used,omitempty"`
}

// DecodeFlows reads what Encode wrote; anything unreadable is an empty
// Flows (the callback then explains that the sign-in must be started again).
func DecodeFlows(s string) Flows {
	var f Flows
	if s != "" {
		_ = json.Unmarshal([]byte(s), &f)
	}
	return f
}

// Encode returns f in the form DecodeFlows reads.
func (f Flows) Encode() string {
	b, _ := json.Marshal(f) // plain strings and times: cannot fail
	return string(b)
}

// Begin records p as its provider's pending authorization, replacing an
// earlier one (the merchant clicked Connect again).
func (f *Flows) Begin(p Pending) {
	if f.Pending == nil {
		f.Pending = map[string]Pending{}
	}
	f.Pending[p.Provider] = p
}

// Take removes and returns provider's pending authorization if state
// matches it and it has not expired. Whatever the outcome, the pending
// authorization is gone afterwards (a state is good for one callback), so the
// caller must save the session even when Take fails. The error is a
// *Failure saying why.
func (f *Flows) Take(provider, state string, now time.Time) (Pending, error) {
	p, ok := f.Pending[provider]
	delete(f.Pending, provider)
	digest := stateDigest(state)
	if state != "" {
		for _, u := range f.Used {
			if subtle.ConstantTimeCompare([]byte(u), []byte(digest)) == 1 {
				return Pending{}, failure(provider, ReasonStateReplayed, nil)
			}
		}
	}
	switch {
	case !ok:
		return Pending{}, failure(provider, ReasonStateMissing, nil)
	case state == "" || subtle.ConstantTimeCompare([]byte(p.State), []byte(state)) != 1:
		return Pending{}, failure(provider, ReasonStateMismatch, nil)
	}
	f.Used = append(f.Used, digest)
	if len(f.Used) > maxUsedStates {
		f.Used = f.Used[len(f.Used)-maxUsedStates:]
	}
	if now.Sub(p.Started) > StateTTL || now.Before(p.Started.Add(-time.Minute)) {
		return Pending{}, failure(provider, ReasonStateExpired, nil)
	}
	return p, nil
}

// stateDigest is what Used keeps of a state: enough to recognise it, not
// enough to replay it.
func stateDigest(state string) string {
	h := sha256.Sum256([]byte("tandem oauth state\x00" + state))
	return base64.RawURLEncoding.EncodeToString(h[:12])
}
