package mapping

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Money and numbers a merchant maps go to Salesforce as JSON numbers, text
// as strings, by the source field's type in the sales catalog.
func TestSalesToSalesforceTypes(t *testing.T) {
	m := Mapping{Rules: []Rule{
		{Stream: StreamSales, Source: SaleTotal, Object: "Opportunity", Target: "Total__c", Direction: ToSalesforce},
		{Stream: StreamSales, Source: SaleTicket, Object: "Opportunity", Target: "Ticket__c", Direction: ToSalesforce},
		{Stream: StreamLines, Source: LineQuantity, Object: "OpportunityLineItem", Target: "Qty__c", Direction: ToSalesforce},
		{Stream: StreamLines, Source: LineSKU, Object: "OpportunityLineItem", Target: "SKU__c", Direction: ToSalesforce},
		// A payment's amount read from the sales stream is no field of it.
		{Stream: StreamSales, Source: PaymentType, Object: "Opportunity", Target: "Kind__c", Direction: ToSalesforce},
	}}
	for _, tc := range []struct {
		stream, object string
		rec            Record
		want           map[string]any
	}{
		{StreamSales, "Opportunity", Record{SaleTotal: "12.50", SaleTicket: "220000000042", PaymentType: "7"},
			map[string]any{"Total__c": json.Number("12.50"), "Ticket__c": "220000000042", "Kind__c": "7"}},
		{StreamSales, "Opportunity", Record{SaleTotal: "not a number"},
			map[string]any{"Total__c": "not a number"}},
		{StreamLines, "OpportunityLineItem", Record{LineQuantity: "3", LineSKU: "100"},
			map[string]any{"Qty__c": json.Number("3"), "SKU__c": "100"}},
	} {
		got := m.SalesToSalesforce(tc.stream, tc.object, tc.rec)
		for k, v := range got {
			if v == nil {
				delete(got, k)
			}
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s %v (-want +got):\n%s", tc.stream, tc.rec, diff)
		}
	}
}
