package onboard

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/tandemsync/tandem/integrations/salesforce"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
)

// hideOrganization serves next, leaving Organization out of the global
// describe, the way an org that does not expose the object to the user
// answers.
func hideOrganization(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/sobjects") {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		objs, _ := body["sobjects"].([]any)
		kept := objs[:0]
		for _, o := range objs {
			if m, _ := o.(map[string]any); m["name"] != "Organization" {
				kept = append(kept, o)
			}
		}
		body["sobjects"] = kept
		out, _ := json.Marshal(body)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(rec.Code)
		_, _ = io.Copy(w, bytes.NewReader(out))
	})
}

func TestDiscoverOrgNameAndEdition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        sfsandbox.Options
		hide        bool
		wantName    string // "" means the "Salesforce org <id>" fallback
		wantEdition string
		wantQueries int
	}{
		{name: "sandbox defaults", wantName: sfsandbox.DefaultOrgName, wantEdition: sfsandbox.DefaultEdition, wantQueries: 1},
		{name: "configured org", opts: sfsandbox.Options{OrgName: "Harbour Threads Ltd", Edition: "Enterprise Edition", PersonAccounts: true},
			wantName: "Harbour Threads Ltd", wantEdition: "Enterprise Edition", wantQueries: 1},
		{name: "Organization not exposed", hide: true, wantQueries: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb := sfsandbox.New(tt.opts)
			t.Cleanup(sb.Close)
			var h http.Handler = sb
			if tt.hide {
				h = hideOrganization(sb)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			tr := sb.MintToken(srv.URL)
			c, err := salesforce.NewClient(srv.Client(), salesforce.Token{
				AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, InstanceURL: tr.InstanceURL, ID: tr.ID,
			})
			if err != nil {
				t.Fatal(err)
			}

			d, err := discoverOrg(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(d.OrgID, "00D") || !strings.Contains(tr.ID, "/"+d.OrgID+"/") {
				t.Errorf("org id %q, identity URL %q", d.OrgID, tr.ID)
			}
			wantName := tt.wantName
			if wantName == "" {
				wantName = "Salesforce org " + d.OrgID
			}
			if d.OrgName != wantName || d.Edition != tt.wantEdition || d.IsSandbox {
				t.Errorf("org name %q edition %q sandbox %v, want %q %q false", d.OrgName, d.Edition, d.IsSandbox, wantName, tt.wantEdition)
			}
			if d.UserName != "Admin User" {
				t.Errorf("user name %q, want the sandbox admin's display name", d.UserName)
			}
			queries := 0
			for _, cs := range sb.Stats().Calls {
				if cs.Resource == "query" {
					queries += cs.Count
				}
			}
			if queries != tt.wantQueries {
				t.Errorf("%d SOQL queries, want %d", queries, tt.wantQueries)
			}
		})
	}
}
