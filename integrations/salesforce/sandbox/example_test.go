package sandbox_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/tandemsync/tandem/integrations/salesforce/sandbox"
)

// A test starts a sandbox org, mints a token and calls the REST API with it
// exactly as it would call Salesforce.
func Example() {
	srv := sandbox.New(sandbox.Options{})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	tok := srv.MintToken(ts.URL)

	req, _ := http.NewRequest(http.MethodPost, tok.InstanceURL+"/services/data/v66.0/sobjects/Contact",
		strings.NewReader(`{"FirstName":"Ana","LastName":"Silva","Email":"ana.silva@example.com"}`))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Sforce-Limit-Info"))
	fmt.Println(string(body))
	// Output:
	// 201 api-usage=1/15000
	// {"id":"003RM0000000003YAA","success":true,"errors":[]}
}
