package lightspeed

import (
	"errors"
	"fmt"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Responses are decoded in one streaming pass with the JSON v2 prototype
// (github.com/go-json-experiment/json): every tolerant type below reads its
// value from the shared jsontext.Decoder instead of being handed a copy of
// its bytes, so nested relations are not rescanned at every level (encoding/
// json validates and rescans each custom-decoded value, which made a
// 100-sale page with relations about 8x slower). The models also keep
// encoding/json's UnmarshalJSON, which delegates here.

// decodeOptions: field names match case-insensitively ("updatetime" and
// "updateTime"), duplicate names and invalid UTF-8 are tolerated, unknown
// fields are ignored.
var decodeOptions = jsonv2.JoinOptions(
	jsonv2.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
)

// unmarshal decodes b into v with the tolerant options.
func unmarshal(b []byte, v any) error {
	return jsonv2.Unmarshal(b, v, decodeOptions)
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 0:
		return "invalid JSON"
	}
	return "a literal"
}

// readScalar reads the next value as text: a string's content, a number's
// or boolean's literal, "" for null. Objects and arrays are an error (and
// are consumed, so decoding can report the error cleanly).
func readScalar(dec *jsontext.Decoder) (string, error) {
	switch k := dec.PeekKind(); k {
	case 'n':
		_, err := dec.ReadToken()
		return "", err
	case '{', '[':
		if err := dec.SkipValue(); err != nil {
			return "", err
		}
		return "", errors.New("want a scalar, got " + kindName(k))
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return "", err
	}
	return tok.String(), nil // a string's content, or a literal's raw text
}

// peekNullish consumes null or "" and reports true; any other string is an
// error for a relation.
func peekNullish(dec *jsontext.Decoder) (bool, error) {
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		return true, err
	case '"':
		tok, err := dec.ReadToken()
		if err != nil {
			return true, err
		}
		if tok.String() != "" {
			return true, errors.New("want an object, got a non-empty string")
		}
		return true, nil
	}
	return false, nil
}

func (s *flexString) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	t, err := readScalar(dec)
	if err != nil {
		return err
	}
	*s = flexString(t)
	return nil
}

func (n *flexInt) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	t, err := readScalar(dec)
	if err != nil {
		return err
	}
	return n.set(t)
}

func (v *flexBool) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	t, err := readScalar(dec)
	if err != nil {
		return err
	}
	return v.set(t)
}

func (d *flexDecimal) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	t, err := readScalar(dec)
	if err != nil {
		return err
	}
	return d.set(t)
}

func (t *flexTime) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	s, err := readScalar(dec)
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

func (m *many[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if null, err := peekNullish(dec); null {
		*m = nil
		return err
	}
	switch k := dec.PeekKind(); k {
	case '[':
		var s []T
		if err := jsonv2.UnmarshalDecode(dec, &s, decodeOptions); err != nil {
			return err
		}
		*m = s
		return nil
	case '{':
		var v T
		if err := jsonv2.UnmarshalDecode(dec, &v, decodeOptions); err != nil {
			return err
		}
		*m = []T{v}
		return nil
	default:
		if err := dec.SkipValue(); err != nil {
			return err
		}
		return errors.New("want an object or array, got " + kindName(k))
	}
}

func (m *nested[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if null, err := peekNullish(dec); null {
		*m = nil
		return err
	}
	switch k := dec.PeekKind(); k {
	case '[':
		return (*many[T])(m).UnmarshalJSONFrom(dec)
	case '{':
	default:
		if err := dec.SkipValue(); err != nil {
			return err
		}
		return errors.New("want an object, got " + kindName(k))
	}
	if _, err := dec.ReadToken(); err != nil { // {
		return err
	}
	*m = nil
	found := false
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if name.String() == "@attributes" {
			if err := dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		if found {
			return errors.New("relation container has more than one key")
		}
		found = true
		if err := (*many[T])(m).UnmarshalJSONFrom(dec); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken() // }
	return err
}

func (o one[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if null, err := peekNullish(dec); null {
		*o.p = nil
		return err
	}
	switch k := dec.PeekKind(); k {
	case '[':
		var s many[T]
		if err := s.UnmarshalJSONFrom(dec); err != nil {
			return err
		}
		*o.p = nil
		if len(s) > 0 {
			*o.p = &s[0]
		}
		return nil
	case '{':
		v := new(T)
		if err := jsonv2.UnmarshalDecode(dec, v, decodeOptions); err != nil {
			return err
		}
		*o.p = v
		return nil
	default:
		if err := dec.SkipValue(); err != nil {
			return err
		}
		return errors.New("want an object, got " + kindName(k))
	}
}

// decodeFrom decodes the next value, which must be an object, into the wire
// struct w and names the entity in any error.
func decodeFrom(entity string, dec *jsontext.Decoder, w any) error {
	if k := dec.PeekKind(); k != '{' {
		if err := dec.SkipValue(); err != nil {
			return fmt.Errorf("decode %s: %w", entity, err)
		}
		return fmt.Errorf("decode %s: want an object, got %s", entity, kindName(k))
	}
	if err := jsonv2.UnmarshalDecode(dec, w, decodeOptions); err != nil {
		return fmt.Errorf("decode %s: %w", entity, err)
	}
	return nil
}

func (l link) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if k := dec.PeekKind(); k != '{' {
		// A bare href string, "" or null.
		href, err := readScalar(dec)
		*l.p = href
		return err
	}
	var v struct {
		Attr struct {
			Href flexString `json:"href"`
		} `json:"@attributes"`
	}
	if err := decodeFrom("link", dec, &v); err != nil {
		return err
	}
	*l.p = string(v.Attr.Href)
	return nil
}

func (m metaData) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if null, err := peekNullish(dec); null {
		return err
	}
	var raw map[string]flexString
	if err := decodeFrom("MetaData", dec, &raw); err != nil {
		return err
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		out[k] = string(v)
	}
	*m.p = out
	return nil
}

func (c cfValue) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case '{', '[':
		// A choice object, a list of them, or {"CustomFieldChoice": ...}.
		raw, err := dec.ReadValue()
		if err != nil {
			return err
		}
		return c.UnmarshalJSON(raw)
	}
	return (*flexString)(&c.v.Value).UnmarshalJSONFrom(dec)
}

func (p *page[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if p.bare {
		// The Account detail has no wrapper; buffer it to decode twice.
		raw, err := dec.ReadValue()
		if err != nil {
			return err
		}
		return p.UnmarshalJSON(raw)
	}
	if k := dec.PeekKind(); k != '{' {
		if err := dec.SkipValue(); err != nil {
			return err
		}
		return errors.New("decode response: want an object, got " + kindName(k))
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return err
		}
		switch name.String() {
		case "@attributes":
			if null, err := peekNullish(dec); null {
				if err != nil {
					return err
				}
				continue
			}
			if err := jsonv2.UnmarshalDecode(dec, &p.attrs, decodeOptions); err != nil {
				return fmt.Errorf("decode @attributes: %w", err)
			}
		case p.key:
			var items many[T]
			if err := items.UnmarshalJSONFrom(dec); err != nil {
				return err
			}
			p.items = items
		default:
			if err := dec.SkipValue(); err != nil {
				return err
			}
		}
	}
	_, err := dec.ReadToken()
	return err
}
