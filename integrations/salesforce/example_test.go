package salesforce_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/integrations/salesforce/sandbox"
)

func ExampleMyDomainLoginURL() {
	for _, in := range []string{"acme", "https://acme--uat.sandbox.my.salesforce.com/", "acme.lightning.force.com"} {
		u, err := salesforce.MyDomainLoginURL(in)
		fmt.Println(u, err)
	}
	// Output:
	// https://acme.my.salesforce.com <nil>
	// https://acme--uat.sandbox.my.salesforce.com <nil>
	//  salesforce: "acme.lightning.force.com" is the Lightning address, which the API does not accept: use acme.my.salesforce.com
}

func ExampleID18() {
	id, err := salesforce.ID18("003rm0000068xvcyay") // case lost by a spreadsheet
	fmt.Println(id, err)
	// Output: 003RM0000068xVCYAY <nil>
}

// A page of customers upserted on their Lightspeed id through sObject
// Collections: one API call, one result per record, failures kept apart.
func ExampleClient_UpsertRecords() {
	ctx := context.Background()
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(sb)
	defer srv.Close()

	tok := sb.MintToken(srv.URL)
	c, err := salesforce.NewClient(srv.Client(), salesforce.Token{AccessToken: tok.AccessToken, InstanceURL: tok.InstanceURL, ID: tok.ID})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := c.CreateCustomField(ctx, salesforce.CustomField{FullName: "Contact.Lightspeed_Customer_ID__c",
		Metadata: salesforce.CustomFieldMetadata{Label: "Lightspeed Customer ID", Type: "Text", Length: 40, ExternalID: true, Unique: true}}); err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.UpsertRecords(ctx, "Contact", "Lightspeed_Customer_ID__c", []map[string]any{
		{"Lightspeed_Customer_ID__c": "1", "LastName": "Smith", "Email": "jo@example.com"},
		{"Lightspeed_Customer_ID__c": "2", "FirstName": "No last name"},
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, r := range res {
		if err := r.Err(); err != nil {
			fmt.Printf("record %d failed: %s %v\n", i, r.Errors[0].Code, r.Errors[0].Fields)
			continue
		}
		fmt.Printf("record %d saved (created %v)\n", i, r.Created)
	}
	fmt.Printf("API usage %d/%d\n", c.LastLimitInfo().Used, c.LastLimitInfo().Max)
	// Output:
	// record 0 saved (created true)
	// record 1 failed: REQUIRED_FIELD_MISSING [LastName]
	// API usage 2/15000
}
