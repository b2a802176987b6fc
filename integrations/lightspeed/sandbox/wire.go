package sandbox

import (
	"errors"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// wireTime is the timestamp layout the API emits: UTC with an explicit
// "+00:00" offset. Because every stored time is UTC and the layout is fixed
// width, wire timestamps also sort correctly as plain strings, which the
// query engine relies on.
const wireTime = "2006-01-02T15:04:05+00:00"

func fmtTime(t time.Time) string { return t.UTC().Format(wireTime) }

// parseTimeValue accepts the timestamp forms the API documents for filter
// values and payloads: RFC 3339 with "Z" or "±hh:mm", "±hhmm" without a
// colon, and a bare date.
func parseTimeValue(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05-0700", "2006-01-02T15:04:05", "2006-01-02 15:04:05", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("invalid timestamp " + strconv.Quote(s))
}

// jw is a small append-only JSON writer. The API's wire format is an ordered
// object of strings with nested objects, which encoding/json cannot express
// without maps (unordered) or one struct per shape; writing bytes directly
// keeps field order stable and list pages cheap.
type jw struct {
	b     []byte
	comma bool
}

func (w *jw) key(k string) {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = appendJSONString(w.b, k)
	w.b = append(w.b, ':')
	w.comma = false
}

func (w *jw) str(v string) {
	w.b = appendJSONString(w.b, v)
	w.comma = true
}

// kv writes one string member.
func (w *jw) kv(k, v string) {
	w.key(k)
	w.str(v)
}

func (w *jw) beginObj() {
	w.b = append(w.b, '{')
	w.comma = false
}

func (w *jw) endObj() {
	w.b = append(w.b, '}')
	w.comma = true
}

func (w *jw) beginArr() {
	w.b = append(w.b, '[')
	w.comma = false
}

func (w *jw) endArr() {
	w.b = append(w.b, ']')
	w.comma = true
}

// elem separates array elements.
func (w *jw) elem() {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.comma = false
}

// collection writes n items under the API's one-or-many rule: one item is
// a bare object, two or more an array. Callers handle n == 0 themselves
// because its form differs by place ("" for a relation, absent on a page).
func (w *jw) collection(n int, item func(i int)) {
	if n == 1 {
		item(0)
		return
	}
	w.beginArr()
	for i := range n {
		w.elem()
		item(i)
	}
	w.endArr()
}

// plainByte marks ASCII bytes that need no escaping (a read-only table).
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '/'
	}
	return t
}()

// appendJSONString quotes s the way the API's PHP encoder does: "/" is
// escaped as "\/" (json_encode's default), non-ASCII is written as UTF-8.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainByte[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				b = append(b, s[start:i]...)
				if r == utf8.RuneError {
					b = append(b, `\ufffd`...)
				} else {
					b = append(b, `\u202`...)
					b = append(b, "89"[r-'\u2028'])
				}
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\', '/':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// dec is a fixed-point decimal with seven fractional digits: enough for
// line taxes such as 9.99 × 0.09975 = 0.9965025, which the API prints at
// full precision.
type dec int64

const decScale = 10_000_000

// cents builds a decimal from an amount in cents.
func cents(c int64) dec { return dec(c * (decScale / 100)) }

func parseDec(s string) (dec, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty decimal")
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" || len(frac) > 7 || len(intPart) > 11 {
		return 0, errors.New("invalid decimal")
	}
	var v int64
	for _, c := range intPart {
		if c < '0' || c > '9' {
			return 0, errors.New("invalid decimal")
		}
		v = v*10 + int64(c-'0')
	}
	f := int64(0)
	for i := range 7 {
		f *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, errors.New("invalid decimal")
			}
			f += int64(c - '0')
		}
	}
	v = v*decScale + f
	if neg {
		v = -v
	}
	return dec(v), nil
}

// mul multiplies at full precision and truncates toward zero past the
// seventh digit, which never happens for the rates and prices seeded here.
// The 128-bit product keeps rendering allocation-free. Inputs are bounded
// (parseDec takes at most 11 integer digits, quantities are capped), so a
// result that would not fit is clamped rather than wrapped.
func (d dec) mul(o dec) dec {
	neg := (d < 0) != (o < 0)
	a, b := uint64(d), uint64(o)
	if d < 0 {
		a = uint64(-d)
	}
	if o < 0 {
		b = uint64(-o)
	}
	hi, lo := bits.Mul64(a, b)
	var q uint64 = math.MaxInt64
	if hi < decScale {
		q, _ = bits.Div64(hi, lo, decScale)
		q = min(q, math.MaxInt64)
	}
	if neg {
		return -dec(q)
	}
	return dec(q)
}

// mulInt multiplies by a quantity.
func (d dec) mulInt(n int) dec { return d * dec(n) }

// roundCents rounds half away from zero to two decimals.
func (d dec) roundCents() dec {
	const unit = decScale / 100
	r := d % unit
	d -= r
	switch {
	case r >= unit/2:
		d += unit
	case r <= -unit/2:
		d -= unit
	}
	return d
}

// String prints the decimal the way the API does: no trailing zeros and no
// trailing point ("20", "317.1", "0.0825").
func (d dec) String() string { return string(d.appendTo(nil)) }

func (d dec) appendTo(b []byte) []byte {
	v := int64(d)
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendInt(b, v/decScale, 10)
	f := v % decScale
	if f == 0 {
		return b
	}
	b = append(b, '.')
	digits := 7
	for f%10 == 0 {
		f /= 10
		digits--
	}
	start := len(b)
	b = strconv.AppendInt(b, f, 10)
	if pad := digits - (len(b) - start); pad > 0 {
		// Left-pad the fraction with zeros ("0.05" has f = 5, digits 2).
		b = append(b, make([]byte, pad)...)
		copy(b[start+pad:], b[start:len(b)-pad])
		for i := range pad {
			b[start+i] = '0'
		}
	}
	return b
}

func fmtBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func itoa(i int) string { return strconv.Itoa(i) }
