package lightspeed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// The Lightspeed wire format is loose: every scalar is normally a JSON string
// ("7", "34.48", "true"), but requests and some eras use real numbers and
// booleans; absent values are either omitted, "" or null; a collection of one
// element collapses to an object and an empty loaded relation is "". The
// public models use plain Go types (int64, bool, decimal.Decimal, time.Time,
// slices and pointers), so each model decodes through an unexported "wire"
// struct whose fields are pointers into the model, converted to the tolerant
// types below. The conversions are free (same underlying types) and keep the
// models free of wrapper types. Responses are decoded in one streaming pass
// (decode_stream.go); the encoding/json methods here serve callers that use
// encoding/json directly and the few buffered paths.

// isNull reports whether b is an absent value: null, "" or only whitespace.
func isNull(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null" || string(b) == `""`
}

// scalarText returns the text of a JSON string, number or boolean. For a
// string it is the unquoted content; for a number or boolean the literal.
func scalarText(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", nil
	}
	switch b[0] {
	case '"':
		// Fast path: the outer decoder has validated the value, so a string
		// without escapes is its bytes between the quotes.
		if len(b) >= 2 && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 {
			return string(b[1 : len(b)-1]), nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return s, nil
	case '{', '[':
		return "", errors.New("want a scalar, got " + kindOf(b))
	default:
		if string(b) == "null" {
			return "", nil
		}
		return string(b), nil
	}
}

func kindOf(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	}
	return "a literal"
}

// flexString accepts a string, number or boolean; null is "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b)
	if err != nil {
		return err
	}
	*s = flexString(t)
	return nil
}

// flexInt accepts 7, "7", "", null (zero) and integral floats such as "7.0".
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b)
	if err != nil {
		return err
	}
	return n.set(t)
}

func (n *flexInt) set(t string) error {
	t = strings.TrimSpace(t)
	if t == "" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		// Some eras printed counts as decimals; accept them when integral.
		d, derr := decimal.NewFromString(t)
		if derr != nil || !d.IsInteger() {
			return fmt.Errorf("invalid integer %q", truncate(t))
		}
		if !d.BigInt().IsInt64() {
			return fmt.Errorf("integer %q out of range", truncate(t))
		}
		v = d.IntPart()
	}
	*n = flexInt(v)
	return nil
}

// flexBool accepts true/false as booleans or strings, "1"/"0", and treats
// "", null and absence as false.
type flexBool bool

func (v *flexBool) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b)
	if err != nil {
		return err
	}
	return v.set(t)
}

func (v *flexBool) set(t string) error {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "true", "1", "yes", "on":
		*v = true
	case "false", "0", "", "no", "off":
		*v = false
	default:
		return fmt.Errorf("invalid boolean %q", truncate(t))
	}
	return nil
}

// flexDecimal accepts "34.48", 34.48, "1.2E+2" and treats "" and null as zero.
type flexDecimal decimal.Decimal

func (d *flexDecimal) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b)
	if err != nil {
		return err
	}
	return d.set(t)
}

func (d *flexDecimal) set(t string) error {
	t = strings.TrimSpace(t)
	if t == "" {
		*d = flexDecimal(decimal.Zero)
		return nil
	}
	v, err := decimal.NewFromString(t)
	if err != nil {
		return fmt.Errorf("invalid decimal %q", truncate(t))
	}
	*d = flexDecimal(v)
	return nil
}

// parseTime parses a Lightspeed timestamp. Forms without an offset are UTC,
// which is how Lightspeed stores them.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, nil
	}
	// Every timestamp form the reference lists: RFC 3339 with an offset
	// ("+00:00" normally, local offsets on some fields, "Z"), the docs'
	// offset without a colon ("-0400"), fractional seconds, a space instead
	// of the T, no offset, and plain dates.
	layouts := [...]string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999-0700",
		"2006-01-02T15:04:05.999999999-07",
		"2006-01-02 15:04:05.999999999-07:00",
		"2006-01-02 15:04:05.999999999-0700",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02",
	}
	for _, layout := range layouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid timestamp %q", truncate(s))
}

// flexTime accepts every timestamp form of parseTime; "", null and
// "0000-00-00..." are the zero time.
type flexTime time.Time

func (t *flexTime) UnmarshalJSON(b []byte) error {
	s, err := scalarText(b)
	if err != nil {
		return err
	}
	v, err := parseTime(s)
	if err != nil {
		return err
	}
	*t = flexTime(v)
	return nil
}

// many decodes a collection that may be an array, a single object (the
// one-element collapse), "" or null (empty).
type many[T any] []T

func (m *many[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if isNull(b) {
		*m = nil
		return nil
	}
	switch b[0] {
	case '[':
		var s []T
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*m = s
		return nil
	case '{':
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*m = []T{v}
		return nil
	}
	return errors.New("want an object or array, got " + kindOf(b))
}

// nested decodes a relation container such as "SaleLines":
// {"SaleLine": <object|array>}, also accepting "" and null (no rows) and
// an @attributes key beside the rows. The singular key is not checked, so a
// renamed key still decodes; a container with two row keys is an error.
type nested[T any] []T

func (m *nested[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if isNull(b) {
		*m = nil
		return nil
	}
	if b[0] == '[' {
		// Tolerate a container that was emitted as a bare list.
		return (*many[T])(m).UnmarshalJSON(b)
	}
	if b[0] != '{' {
		return errors.New("want an object, got " + kindOf(b))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	var rows json.RawMessage
	for k, v := range obj {
		if k == "@attributes" {
			continue
		}
		if rows != nil {
			return errors.New("relation container has more than one key")
		}
		rows = v
	}
	if rows == nil {
		*m = nil
		return nil
	}
	return (*many[T])(m).UnmarshalJSON(rows)
}

// one decodes a to-one relation that may be an object, "" or null (nil),
// or a one-element array.
type one[T any] struct{ p **T }

func truncate(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// Helpers that convert a model field's address into its tolerant decoder.
func str(p *string) *flexString             { return (*flexString)(p) }
func i64(p *int64) *flexInt                 { return (*flexInt)(p) }
func boolean(p *bool) *flexBool             { return (*flexBool)(p) }
func money(p *decimal.Decimal) *flexDecimal { return (*flexDecimal)(p) }
func ts(p *time.Time) *flexTime             { return (*flexTime)(p) }

// decodeEntity decodes b into the wire struct w and names the entity in
// any error, so a failure reads "lightspeed: decode Sale: ...".
func decodeEntity(entity string, b []byte, w any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("decode %s: want an object, got %s", entity, kindOf(b))
	}
	if err := json.Unmarshal(b, w); err != nil {
		return fmt.Errorf("decode %s: %w", entity, err)
	}
	return nil
}
