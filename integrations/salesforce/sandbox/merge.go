package sandbox

import (
	"fmt"
	"slices"

	"github.com/tandemsync/tandem/integrations/salesforce/sandbox/soql"
)

// maxMergeDuplicates is how many records one merge may fold into the
// master: Salesforce merges at most three records at a time.
const maxMergeDuplicates = 2

// MergeResult mirrors the SOAP API's MergeResult: the surviving record, the
// records merged into it, and the related records moved onto it.
type MergeResult struct {
	ID                string   `json:"id"`
	MergedRecordIDs   []string `json:"mergedRecordIds"`
	UpdatedRelatedIDs []string `json:"updatedRelatedIds"`
	Success           bool     `json:"success"`
}

// Merge does what merging duplicates in Salesforce's UI or its SOAP
// merge() call does, neither of which the sandbox emulates: the master
// keeps its own field values; each duplicate is deleted (to the recycle
// bin, so queryAll and getDeleted see it) with MasterRecordId set to the
// master; records that pointed at a duplicate (opportunities, contacts of
// a merged account, custom lookups, ...) are re-parented to the master; and
// SystemModstamp moves on the master, the duplicates and every re-parented
// record. object is Account or Contact; ids may be 15 or 18 characters.
func (s *Server) Merge(object, master string, duplicates []string) (MergeResult, error) {
	s.data.mu.Lock()
	defer s.data.mu.Unlock()
	if object == "" {
		return MergeResult{}, fmt.Errorf(`merge: name the object: {"object":"Contact","master":ID,"duplicates":[ID,...]}`)
	}
	o := s.data.sch.object(object)
	if o == nil {
		return MergeResult{}, fmt.Errorf("merge: object %q does not exist", object)
	}
	if o.field("MasterRecordId") == nil {
		return MergeResult{}, fmt.Errorf("merge: %s records cannot be merged (only Account and Contact)", o.Name)
	}
	if len(duplicates) == 0 || len(duplicates) > maxMergeDuplicates {
		return MergeResult{}, fmt.Errorf("merge: give 1 or %d duplicates, not %d: Salesforce merges at most three records at a time", maxMergeDuplicates, len(duplicates))
	}
	tb := s.data.table(o)
	live := func(role, raw string) (soql.Record, error) {
		id, ok := normalizeID(raw)
		if !ok || id[:3] != o.KeyPrefix {
			return nil, fmt.Errorf("merge: %s %q is not a %s id", role, raw, o.Name)
		}
		rec, ok := tb.get(id)
		if !ok {
			return nil, fmt.Errorf("merge: %s %s does not exist", role, id)
		}
		if rec["IsDeleted"] == true {
			return nil, fmt.Errorf("merge: %s %s is deleted", role, id)
		}
		if rec["IsPersonAccount"] == true {
			return nil, fmt.Errorf("merge: %s %s is a person account; the sandbox does not merge person accounts", role, id)
		}
		return rec, nil
	}
	m, err := live("master", master)
	if err != nil {
		return MergeResult{}, err
	}
	masterID := m["Id"].(string)
	res := MergeResult{ID: masterID, MergedRecordIDs: []string{}, UpdatedRelatedIDs: []string{}, Success: true}
	for _, raw := range duplicates {
		rec, err := live("duplicate", raw)
		if err != nil {
			return MergeResult{}, err
		}
		id := rec["Id"].(string)
		if id == masterID || slices.Contains(res.MergedRecordIDs, id) {
			return MergeResult{}, fmt.Errorf("merge: %s is given twice; the master and each duplicate must be different records", id)
		}
		res.MergedRecordIDs = append(res.MergedRecordIDs, id)
	}

	t := s.data.begin(s.clk.Now())
	touch := func(rec soql.Record) soql.Record {
		c := clone(rec)
		c["SystemModstamp"], c["LastModifiedDate"], c["LastModifiedById"] = t.now, t.now, t.user
		return c
	}
	for _, child := range s.data.sch.childRelationships(o.Name) {
		co := s.data.sch.object(child.Child)
		ctb := s.data.table(co)
		for _, loser := range res.MergedRecordIDs {
			// lookup returns ids in no particular order; sort so the
			// result lists them the same way every time.
			ids := ctb.lookup(co.field(child.Field), loser)
			slices.Sort(ids)
			for _, cid := range ids {
				cr, _ := ctb.get(cid)
				if cr["IsDeleted"] == true {
					continue
				}
				moved := touch(cr)
				moved[child.Field] = masterID
				t.replace(ctb, moved)
				if !slices.Contains(res.UpdatedRelatedIDs, cid) {
					res.UpdatedRelatedIDs = append(res.UpdatedRelatedIDs, cid)
				}
			}
		}
	}
	// Re-read the merged records: re-parenting may have just changed them
	// (a duplicate whose ParentId was the other duplicate).
	for _, id := range res.MergedRecordIDs {
		rec, _ := tb.get(id)
		gone := touch(rec)
		gone["IsDeleted"], gone["MasterRecordId"] = true, masterID
		t.replace(tb, gone)
	}
	cur, _ := tb.get(masterID)
	t.replace(tb, touch(cur))
	return res, nil
}
