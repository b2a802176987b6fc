package lightspeed

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Op is a filter operator.
type Op string

// The filter operators of the API.
const (
	Eq            Op = "="
	Greater       Op = ">"
	GreaterEq     Op = ">="
	Less          Op = "<"
	LessEq        Op = "<="
	Between       Op = "><" // inclusive; two values
	NotEq         Op = "!="
	Like          Op = "~"  // SQL LIKE; % is the wildcard
	NotLike       Op = "!~" // NOT LIKE
	In            Op = "IN" // up to MaxInValues values
	MaxInValues      = 100
	MaxLimit         = 100
	timeLayoutAPI    = "2006-01-02T15:04:05-07:00"
)

// Archived selects archived records.
type Archived string

// Archived values: active only (the API default), both, archived only.
const (
	ArchivedExclude Archived = "false"
	ArchivedInclude Archived = "true"
	ArchivedOnly    Archived = "only"
)

// Cond is one filter condition; build it with Where or inside Or.
type Cond struct {
	Field  string
	Op     Op
	Values []any
}

// C returns a condition for Query.Or.
func C(field string, op Op, values ...any) Cond { return Cond{Field: field, Op: op, Values: values} }

// Query builds the query string of a list or get call. The zero value is
// empty and usable; methods return the query so calls chain. Errors (an
// unknown operator, too many IN values, an unencodable value) are reported
// when the query is used.
type Query struct {
	conds     []Cond
	ors       [][]Cond
	archived  Archived
	sort      string
	relations []string
	limit     int
	extra     url.Values
	errs      []error
}

// NewQuery returns an empty query.
func NewQuery() *Query { return &Query{} }

// Where adds field op values. Values are formatted for the API: time.Time
// as "2006-01-02T15:04:05-07:00" (its offset kept), decimal.Decimal,
// integers, booleans ("true"/"false") and strings as they are. A relation
// field ("Contact.email") also loads its relation, as the API requires.
func (q *Query) Where(field string, op Op, values ...any) *Query {
	q.conds = append(q.conds, Cond{Field: field, Op: op, Values: values})
	q.needRelation(field)
	return q
}

// Or adds an or= group: a record matches when any condition holds.
func (q *Query) Or(conds ...Cond) *Query {
	if len(conds) == 0 {
		return q
	}
	q.ors = append(q.ors, conds)
	for _, c := range conds {
		q.needRelation(c.Field)
	}
	return q
}

// Archived sets which archived records are returned.
func (q *Query) Archived(a Archived) *Query { q.archived = a; return q }

// Sort orders by field, descending when desc. The API accepts only each
// resource's whitelisted fields.
func (q *Query) Sort(field string, desc bool) *Query {
	if desc {
		field = "-" + field
	}
	q.sort = field
	return q
}

// LoadRelations adds relations to load ("Contact", "SaleLines.Item", or
// "all").
func (q *Query) LoadRelations(names ...string) *Query {
	for _, n := range names {
		if !slices.Contains(q.relations, n) {
			q.relations = append(q.relations, n)
		}
	}
	return q
}

// Limit sets the page size, 1 to 100; list calls default to 100.
func (q *Query) Limit(n int) *Query {
	if n < 1 || n > MaxLimit {
		q.errs = append(q.errs, fmt.Errorf("limit %d out of range 1..%d", n, MaxLimit))
		return q
	}
	q.limit = n
	return q
}

// Set sets a raw parameter (for parameters this builder does not model).
func (q *Query) Set(key, value string) *Query {
	if q.extra == nil {
		q.extra = url.Values{}
	}
	q.extra.Set(key, value)
	return q
}

func (q *Query) needRelation(field string) {
	if rel, _, ok := strings.Cut(field, "."); ok && rel != "" {
		if !slices.Contains(q.relations, rel) && !slices.Contains(q.relations, "all") {
			q.relations = append(q.relations, rel)
		}
	}
}

// clone returns a deep copy, so iterators never mutate the caller's query.
func (q *Query) clone() *Query {
	if q == nil {
		return &Query{}
	}
	c := *q
	c.conds = slices.Clone(q.conds)
	c.ors = slices.Clone(q.ors)
	c.relations = slices.Clone(q.relations)
	c.errs = slices.Clone(q.errs)
	if q.extra != nil {
		c.extra = url.Values{}
		for k, v := range q.extra {
			c.extra[k] = slices.Clone(v)
		}
	}
	return &c
}

// Encode returns the encoded query string. Operators and values are
// percent-encoded as the API emits them itself
// ("timeStamp=%3E%3D%2C2021-10-05T14%3A18%3A46%2B00%3A00"); in particular
// "+" in an offset becomes %2B, not a space.
func (q *Query) Encode() (string, error) {
	if q == nil {
		return "", nil
	}
	if len(q.errs) > 0 {
		return "", fmt.Errorf("lightspeed: query: %w", errors.Join(q.errs...))
	}
	var parts []string
	add := func(k, rawEncodedValue string) {
		parts = append(parts, url.QueryEscape(k)+"="+rawEncodedValue)
	}
	for _, c := range q.conds {
		v, err := condValue(c)
		if err != nil {
			return "", fmt.Errorf("lightspeed: query: %w", err)
		}
		add(c.Field, url.QueryEscape(v))
	}
	for _, group := range q.ors {
		enc := make([]string, 0, len(group))
		for _, c := range group {
			v, err := condValue(c)
			if err != nil {
				return "", fmt.Errorf("lightspeed: query: %w", err)
			}
			// Inside or=, "=" between field and value is %3D and a literal
			// "|" is %7C; "|" itself separates the operands.
			enc = append(enc, url.QueryEscape(c.Field)+"%3D"+url.QueryEscape(v))
		}
		add("or", strings.Join(enc, "|"))
	}
	if q.archived != "" {
		add("archived", url.QueryEscape(string(q.archived)))
	}
	if q.sort != "" {
		add("sort", url.QueryEscape(q.sort))
	}
	if len(q.relations) > 0 {
		if slices.Contains(q.relations, "all") {
			add("load_relations", "all")
		} else {
			b, _ := json.Marshal(q.relations) // []string always marshals
			add("load_relations", url.QueryEscape(string(b)))
		}
	}
	if q.limit > 0 {
		add("limit", strconv.Itoa(q.limit))
	}
	if len(q.extra) > 0 {
		parts = append(parts, q.extra.Encode())
	}
	return strings.Join(parts, "&"), nil
}

// condValue renders "op,value" (or the bare value for "=").
func condValue(c Cond) (string, error) {
	if c.Field == "" {
		return "", errors.New("condition with empty field")
	}
	vals := make([]string, len(c.Values))
	for i, v := range c.Values {
		s, err := formatValue(v)
		if err != nil {
			return "", fmt.Errorf("%s: %w", c.Field, err)
		}
		vals[i] = s
	}
	switch c.Op {
	case Eq, "":
		if len(vals) != 1 {
			return "", fmt.Errorf("%s: = takes one value, got %d", c.Field, len(vals))
		}
		// A value with a comma would be read as "operator,value"; spell
		// the operator out then.
		if strings.Contains(vals[0], ",") {
			return "=," + vals[0], nil
		}
		return vals[0], nil
	case Greater, GreaterEq, Less, LessEq, NotEq, Like, NotLike:
		if len(vals) != 1 {
			return "", fmt.Errorf("%s: %s takes one value, got %d", c.Field, c.Op, len(vals))
		}
		return string(c.Op) + "," + vals[0], nil
	case Between:
		if len(vals) != 2 {
			return "", fmt.Errorf("%s: >< takes two values, got %d", c.Field, len(vals))
		}
		return "><," + vals[0] + "," + vals[1], nil
	case In:
		if len(vals) == 0 || len(vals) > MaxInValues {
			return "", fmt.Errorf("%s: IN takes 1..%d values, got %d", c.Field, MaxInValues, len(vals))
		}
		return "IN,[" + strings.Join(vals, ",") + "]", nil
	}
	return "", fmt.Errorf("%s: unknown operator %q", c.Field, c.Op)
}

func formatValue(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case time.Time:
		return x.Format(timeLayoutAPI), nil
	case *time.Time:
		if x == nil {
			return "", errors.New("nil time")
		}
		return x.Format(timeLayoutAPI), nil
	case decimal.Decimal:
		return x.String(), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case uint:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case bool:
		return strconv.FormatBool(x), nil
	case fmt.Stringer:
		return x.String(), nil
	}
	return "", fmt.Errorf("unsupported value type %T (use string, integer, bool, time.Time or decimal.Decimal)", v)
}
