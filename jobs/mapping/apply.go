package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Record is a record in canonical form: canonical key → value as text.
// Absent and "" mean the same: no value.
type Record map[string]string

// Transform turns a canonical value into the Salesforce value and back.
// The list is closed: no expression from user input is ever evaluated.
type Transform string

// Transforms.
const (
	TransformCopy Transform = ""
	// TransformLastName sends an empty last name as the first name, or
	// "(no name)": Salesforce requires one.
	TransformLastName Transform = "last_name"
	// TransformStreetLines joins street and street 2 as two lines of one
	// Salesforce street field, and splits them on the way back.
	TransformStreetLines Transform = "street_lines"
	// TransformDate sends a date (YYYY-MM-DD).
	TransformDate Transform = "date"
	// TransformDateTime sends a date and time (UTC).
	TransformDateTime Transform = "datetime"
)

// Transforms lists the transforms the mapping screen may offer.
func Transforms() []Transform {
	return []Transform{TransformCopy, TransformLastName, TransformStreetLines, TransformDate, TransformDateTime}
}

// Valid reports whether t is one of the transforms, or a truncation.
func (t Transform) Valid() bool {
	if _, ok := t.TruncateTo(); ok {
		return true
	}
	return slices.Contains(Transforms(), t)
}

// truncatePrefix starts a truncation: "truncate:80" cuts text to 80
// characters, the length of the Salesforce field it goes to.
const truncatePrefix = "truncate:"

// Truncate is the transform that cuts text to n characters.
func Truncate(n int) Transform { return Transform(truncatePrefix + strconv.Itoa(n)) }

// TruncateTo returns the length a truncation cuts to, and false for other
// transforms.
func (t Transform) TruncateTo() (int, bool) {
	rest, ok := strings.CutPrefix(string(t), truncatePrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n > 0 && strconv.Itoa(n) == rest
}

// NoName is the last name sent for a customer with no name at all.
const NoName = "(no name)"

// sourceKeys are the canonical keys a rule reads.
func (r Rule) sourceKeys() []string {
	if r.Transform == TransformStreetLines {
		return []string{r.Source, CustStreet2}
	}
	return []string{r.Source}
}

// ToSalesforce returns the Salesforce fields of object that rec's values
// for stream go to (rules flowing Lightspeed → Salesforce), with empty
// values as nil (which clears the field). skip names canonical keys to
// leave out (fields a conflict gave to Salesforce).
func (m Mapping) ToSalesforce(stream, object string, rec Record, skip map[string]bool) map[string]any {
	out := map[string]any{}
	for _, r := range m.Rules {
		if r.Stream != stream || r.Object != object || !r.Direction.ToSF() || skip[r.Source] {
			continue
		}
		v := r.Transform.apply(r.Source, rec)
		if v == "" {
			out[r.Target] = nil
			continue
		}
		out[r.Target] = v
	}
	return out
}

func (t Transform) apply(source string, rec Record) string {
	v := rec[source]
	switch t {
	case TransformLastName:
		if v == "" {
			v = rec[CustFirst]
		}
		if v == "" {
			v = NoName
		}
	case TransformStreetLines:
		if s2 := rec[CustStreet2]; s2 != "" {
			if v == "" {
				return s2
			}
			v += "\n" + s2
		}
	case TransformDate:
		if tm, err := time.Parse(time.DateOnly, v); err == nil {
			v = tm.Format(time.DateOnly)
		} else if tm, err := time.Parse(time.RFC3339, v); err == nil {
			v = tm.UTC().Format(time.DateOnly)
		}
	case TransformDateTime:
		if tm, err := time.Parse(time.RFC3339, v); err == nil {
			v = tm.UTC().Format("2006-01-02T15:04:05.000Z")
		} else if tm, err := time.Parse(time.DateOnly, v); err == nil {
			v = tm.Format("2006-01-02T15:04:05.000Z")
		}
	default:
		if n, ok := t.TruncateTo(); ok {
			if r := []rune(v); len(r) > n {
				v = string(r[:n])
			}
		}
	}
	return v
}

// FromSalesforce returns the canonical values of the rules of stream that
// flow Salesforce → Lightspeed, read from a Salesforce record by field name
// (get returns "" for a missing or null field).
func (m Mapping) FromSalesforce(stream, object string, get func(field string) string) Record {
	out := Record{}
	for _, r := range m.Rules {
		if r.Stream != stream || r.Object != object || !r.Direction.ToLS() {
			continue
		}
		v := strings.TrimSpace(get(r.Target))
		if r.Transform == TransformStreetLines {
			first, rest, _ := strings.Cut(v, "\n")
			out[r.Source] = strings.TrimSpace(first)
			out[CustStreet2] = strings.TrimSpace(strings.ReplaceAll(rest, "\n", " "))
			continue
		}
		out[r.Source] = v
	}
	return out
}

// Keys returns the canonical keys of stream's rules that flow the given way
// (toSF: Lightspeed → Salesforce, else Salesforce → Lightspeed), sorted.
func (m Mapping) Keys(stream string, toSF bool) []string {
	var out []string
	for _, r := range m.Rules {
		if r.Stream != stream || (toSF && !r.Direction.ToSF()) || (!toSF && !r.Direction.ToLS()) {
			continue
		}
		out = append(out, r.sourceKeys()...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Targets returns the Salesforce fields of object that stream's rules
// read or write, sorted.
func (m Mapping) Targets(stream, object string) []string {
	var out []string
	for _, r := range m.Rules {
		if r.Stream == stream && r.Object == object {
			out = append(out, r.Target)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Hash is the canonical hash of rec's values for keys: what the engine
// stores on a link to recognise its own echo. Keys absent from rec hash as
// empty.
func Hash(rec Record, keys []string) string {
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(rec[k]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Subset returns rec's values for keys.
func (rec Record) Subset(keys []string) Record {
	out := make(Record, len(keys))
	for _, k := range keys {
		out[k] = rec[k]
	}
	return out
}
