package lightspeed

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestQueryEncode(t *testing.T) {
	t.Parallel()
	est := time.FixedZone("EST", -4*3600)
	tests := []struct {
		name string
		q    *Query
		want string
	}{
		{"nil", nil, ""},
		{"empty", NewQuery(), ""},
		{"equals bare", NewQuery().Where("customerID", Eq, 1), "customerID=1"},
		{"equals with comma spells the operator", NewQuery().Where("lastName", Eq, "Doe, Jr"), "lastName=%3D%2CDoe%2C+Jr"},
		{"timestamp plus encoded",
			NewQuery().Where("timeStamp", GreaterEq, time.Date(2021, 10, 5, 14, 18, 46, 0, time.UTC)),
			"timeStamp=%3E%3D%2C2021-10-05T14%3A18%3A46%2B00%3A00"},
		{"timestamp keeps offset",
			NewQuery().Where("timeStamp", Greater, time.Date(2016, 11, 1, 0, 0, 0, 0, est)),
			"timeStamp=%3E%2C2016-11-01T00%3A00%3A00-04%3A00"},
		{"less", NewQuery().Where("itemID", Less, int64(5)), "itemID=%3C%2C5"},
		{"less or equal", NewQuery().Where("itemID", LessEq, 5), "itemID=%3C%3D%2C5"},
		{"between", NewQuery().Where("itemID", Between, 1, 10), "itemID=%3E%3C%2C1%2C10"},
		{"not equal", NewQuery().Where("itemID", NotEq, 3), "itemID=%21%3D%2C3"},
		{"like with wildcard", NewQuery().Where("description", Like, "foo%"), "description=~%2Cfoo%25"},
		{"not like", NewQuery().Where("Contact.email", NotLike, ""), "Contact.email=%21~%2C&load_relations=%5B%22Contact%22%5D"},
		{"in", NewQuery().Where("customerID", In, 1, 2, 3), "customerID=IN%2C%5B1%2C2%2C3%5D"},
		{"bool and decimal", NewQuery().Where("completed", Eq, true).Where("total", Greater, decimal.RequireFromString("9.50")),
			"completed=true&total=%3E%2C9.5"},
		{"or group", NewQuery().Or(C("description", Like, "foo%"), C("description", Eq, "a|b")),
			"or=description%3D~%2Cfoo%25|description%3Da%7Cb"},
		{"archived sort relations limit",
			NewQuery().Archived(ArchivedInclude).Sort("timeStamp", true).LoadRelations("Contact", "CustomFieldValues", "Contact").Limit(50),
			"archived=true&sort=-timeStamp&load_relations=%5B%22Contact%22%2C%22CustomFieldValues%22%5D&limit=50"},
		{"all relations", NewQuery().LoadRelations("all").Where("Contact.email", Eq, "a@b.c"),
			"Contact.email=a%40b.c&load_relations=all"},
		{"raw param", NewQuery().Set("shopID", "2"), "shopID=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.q.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if got != tt.want {
				t.Errorf("Encode() =\n %s\nwant\n %s", got, tt.want)
			}
			// Whatever we send must parse back to the intended operator.
			if _, err := url.ParseQuery(got); err != nil {
				t.Errorf("not a valid query: %v", err)
			}
		})
	}
}

func TestQueryDecodedValues(t *testing.T) {
	t.Parallel()
	raw, err := NewQuery().Where("timeStamp", GreaterEq, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)).Encode()
	if err != nil {
		t.Fatal(err)
	}
	v, _ := url.ParseQuery(raw)
	if got, want := v.Get("timeStamp"), ">=,2024-01-02T03:04:05+00:00"; got != want {
		t.Errorf("server sees %q, want %q", got, want)
	}
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	many := make([]any, 101)
	for i := range many {
		many[i] = i
	}
	tests := []struct {
		name, want string
		q          *Query
	}{
		{"too many IN", "IN takes 1..100", NewQuery().Where("itemID", In, many...)},
		{"empty IN", "IN takes", NewQuery().Where("itemID", In)},
		{"unknown op", "unknown operator", NewQuery().Where("itemID", Op("<>"), 1)},
		{"between arity", "takes two values", NewQuery().Where("itemID", Between, 1)},
		{"float rejected", "unsupported value type float64", NewQuery().Where("total", Greater, 1.5)},
		{"limit range", "limit 101", NewQuery().Limit(101)},
		{"empty field", "empty field", NewQuery().Where("", Eq, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.q.Encode()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want containing %q", err, tt.want)
			}
		})
	}
}

func TestQueryCloneIsolated(t *testing.T) {
	t.Parallel()
	q := NewQuery().Where("a", Eq, 1).Set("x", "1")
	c := q.clone()
	c.Where("b", Eq, 2).Set("x", "2")
	got, _ := q.Encode()
	if got != "a=1&x=1" {
		t.Errorf("original changed: %s", got)
	}
}
