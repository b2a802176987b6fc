package lightspeed_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
)

func ExampleQuery_Encode() {
	cursor := time.Date(2024, 3, 9, 19, 0, 0, 0, time.UTC)
	q := lightspeed.NewQuery().
		Where("updatetime", lightspeed.GreaterEq, cursor).
		Where("shopID", lightspeed.Eq, 2).
		Sort("updatetime", false).
		LoadRelations("SaleLines", "SalePayments")
	s, err := q.Encode()
	fmt.Println(s, err)
	// Output: updatetime=%3E%3D%2C2024-03-09T19%3A00%3A00%2B00%3A00&shopID=2&sort=updatetime&load_relations=%5B%22SaleLines%22%2C%22SalePayments%22%5D <nil>
}

func ExampleCustomersService_ListIter() {
	sb := sandbox.New(sandbox.Options{Seed: &sandbox.SeedOptions{Seed: 7, Shops: 1, Customers: 3, Sales: -1}})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	pair := sb.MintToken()

	c, err := lightspeed.NewClient(srv.Client(), lightspeed.Options{
		BaseURL:   srv.URL,
		AccountID: int64(pair.AccountID),
		Tokens:    lightspeed.StaticToken{AccessToken: pair.AccessToken},
		Limits:    lightspeed.NewLimits(lightspeed.LimitsOptions{}),
	})
	if err != nil {
		panic(err)
	}
	n := 0
	for _, err := range c.Customers.ListIter(context.Background(), lightspeed.NewQuery().Archived(lightspeed.ArchivedInclude)) {
		if err != nil {
			panic(err)
		}
		n++
	}
	fmt.Println(n, "customers")
	// Output: 3 customers
}
