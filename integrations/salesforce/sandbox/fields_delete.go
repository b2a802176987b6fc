package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DeleteCustomField deletes a custom field, as a merchant would in Setup:
// it leaves describe, queries and writes at once (a write naming it answers
// INVALID_FIELD "No such column"), and its values are gone. In a
// person-account org a Contact field's __pc twin on Account goes too. The
// Tooling API's CustomField row stays (Salesforce keeps deleted fields
// there for a while too).
func (s *Server) DeleteCustomField(object, name string) error {
	s.data.mu.Lock()
	defer s.data.mu.Unlock()
	d := s.data
	o := d.sch.object(object)
	if o == nil {
		return fmt.Errorf("sandbox: delete field: object %q does not exist", object)
	}
	f := o.field(name)
	if f == nil || !f.Custom {
		return fmt.Errorf("sandbox: delete field: %s has no custom field %q", o.Name, name)
	}
	now := s.clk.Now()
	dropField(d, o, f, now)
	if d.sch.personAccts && o.Name == "Contact" {
		acct := d.sch.object("Account")
		if pc := acct.field(strings.TrimSuffix(f.Name, "__c") + "__pc"); pc != nil {
			dropField(d, acct, pc, now)
		}
	}
	return nil
}

func dropField(d *db, o *objectDef, f *fieldDef, now time.Time) {
	o.Fields = slices.DeleteFunc(o.Fields, func(x *fieldDef) bool { return x == f })
	delete(o.byLower, strings.ToLower(f.Name))
	if f.RelationshipName != "" {
		delete(o.relByLower, strings.ToLower(f.RelationshipName))
	}
	o.modified = now
	tb := d.table(o)
	for i, r := range tb.rows {
		if _, ok := r[f.Name]; ok {
			nr := clone(r)
			delete(nr, f.Name)
			tb.rows[i] = nr
		}
	}
	delete(tb.idx, f.Name)
}
