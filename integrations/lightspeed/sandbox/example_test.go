package sandbox_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
)

// A test starts the sandbox with httptest, mints a token without the
// consent page and calls the API as a Lightspeed client would.
func ExampleNew() {
	sb := sandbox.New(sandbox.Options{Seed: &sandbox.SeedOptions{Seed: 42, Shops: 1, Customers: 10, Sales: 10}})
	srv := httptest.NewServer(sb)
	defer srv.Close()

	tok := sb.MintToken()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/API/V3/Account.json", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Header.Get("X-LS-API-Bucket-Level"))
	fmt.Println(string(body))
	// Output:
	// 1/90
	// {"@attributes":{"count":"1"},"Account":{"accountID":"200001","name":"Tandem Demo Boutique","link":{"@attributes":{"href":"\/API\/V3\/Account\/200001"}}}}
}
