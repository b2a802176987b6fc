package lightspeed

// Fixtures copied verbatim from the Lightspeed reference
// (shared/reference/lightspeed-retail.md), so the decoders are checked
// against the documented forms rather than the sandbox's own output.

// refPage412 is example 4.12: page 2 of a V3 cursor query by timeStamp.
const refPage412 = `{
  "@attributes": {
    "next": "https://api.lightspeedapp.com/API/V3/Account/182255/Customer.json?sort=timeStamp&timeStamp=%3E%2C2024-01-01T00%3A00%3A00%2B00%3A00&limit=2&after=WyIyMDI0LTAxLTA1VDE3OjAyOjExKzAwOjAwIiw1MV0%3D",
    "previous": "https://api.lightspeedapp.com/API/V3/Account/182255/Customer.json?sort=timeStamp&timeStamp=%3E%2C2024-01-01T00%3A00%3A00%2B00%3A00&limit=2&before=WyIyMDI0LTAxLTAzVDA5OjE1OjAwKzAwOjAwIiw0OV0%3D"
  },
  "Customer": [
    { "customerID": "49", "firstName": "Ada", "lastName": "Ng", "title": "", "company": "", "companyRegistrationNumber": "", "vatNumber": "",
      "creditAccountID": "0", "customerTypeID": "0", "discountID": "0", "taxCategoryID": "0",
      "createTime": "2023-12-30T10:00:00+00:00", "timeStamp": "2024-01-03T09:15:00+00:00", "archived": "false" },
    { "customerID": "51", "firstName": "Bo", "lastName": "Lind", "title": "", "company": "", "companyRegistrationNumber": "", "vatNumber": "",
      "creditAccountID": "0", "customerTypeID": "2", "discountID": "0", "taxCategoryID": "0",
      "createTime": "2024-01-05T17:02:11+00:00", "timeStamp": "2024-01-05T17:02:11+00:00", "archived": "false" }
  ]
}`

// refCustomer413 is example 4.13: a single Customer with Contact,
// CustomerType and CustomFieldValues loaded.
const refCustomer413 = `{
  "@attributes": { "count": "1" },
  "Customer": {
    "customerID": "42",
    "firstName": "Marie",
    "lastName": "Tremblay",
    "dob": "1988-05-14T04:00:00+00:00",
    "archived": "false",
    "title": "Buyer",
    "company": "Atelier Nord",
    "companyRegistrationNumber": "",
    "vatNumber": "",
    "createTime": "2023-06-02T14:21:09+00:00",
    "timeStamp": "2024-02-11T16:40:27+00:00",
    "contactID": "57",
    "creditAccountID": "0",
    "customerTypeID": "2",
    "discountID": "0",
    "employeeID": "0",
    "noteID": "88",
    "taxCategoryID": "0",
    "measurementID": "0",
    "Contact": {
      "contactID": "57",
      "custom": "",
      "noEmail": "false",
      "noPhone": "true",
      "noMail": "true",
      "timeStamp": "2024-02-11T16:40:27+00:00",
      "Addresses": {
        "ContactAddress": {
          "address1": "700 St-Antoine E",
          "address2": "Suite 300",
          "city": "Montreal",
          "state": "Quebec",
          "zip": "H2Y 1A6",
          "country": "Canada",
          "countryCode": "CA",
          "stateCode": "QC"
        }
      },
      "Phones": {
        "ContactPhone": [
          { "number": "514-555-0142", "useType": "Mobile" },
          { "number": "514-555-0100", "useType": "Work" }
        ]
      },
      "Emails": {
        "ContactEmail": { "address": "marie@example.com", "useType": "Primary" }
      },
      "Websites": ""
    },
    "CustomerType": { "customerTypeID": "2", "name": "Loyalty", "taxCategoryID": "0", "discountID": "1" },
    "CustomFieldValues": {
      "CustomFieldValue": [
        { "customFieldValueID": "301", "customFieldID": "6", "name": "Student", "type": "boolean", "value": "false" },
        { "customFieldValueID": "302", "customFieldID": "9", "name": "Loyalty tier", "type": "string", "value": "Gold" }
      ]
    }
  }
}`

// refSale414 is example 4.14: a completed Sale with two SaleLines, one
// SalePayment (collapsed to an object) and the Customer loaded.
const refSale414 = `{
  "@attributes": { "count": "1" },
  "Sale": {
    "saleID": "1204",
    "timeStamp": "2024-03-09T19:12:44+00:00",
    "discountPercent": "0",
    "completed": "true",
    "archived": "false",
    "voided": "false",
    "enablePromotions": "true",
    "isTaxInclusive": "false",
    "tipEnabled": "false",
    "createTime": "2024-03-09T19:10:02+00:00",
    "updateTime": "2024-03-09T19:12:45+00:00",
    "completeTime": "2024-03-09T19:12:44+00:00",
    "referenceNumber": "",
    "referenceNumberSource": "",
    "tax1Rate": "0.05",
    "tax2Rate": "0.09975",
    "change": "0",
    "receiptPreference": "printed",
    "displayableSubtotal": "49.99",
    "ticketNumber": "220000001204",
    "calcDiscount": "0",
    "calcTotal": "57.48",
    "calcSubtotal": "49.99",
    "calcTaxable": "49.99",
    "calcNonTaxable": "0",
    "calcAvgCost": "21.5",
    "calcFIFOCost": "21",
    "calcTax1": "2.5",
    "calcTax2": "4.99",
    "calcPayments": "57.48",
    "calcTips": "0",
    "calcItemFees": "0",
    "total": "57.48",
    "totalDue": "57.48",
    "displayableTotal": "57.48",
    "balance": "0",
    "customerID": "42",
    "discountID": "0",
    "employeeID": "3",
    "quoteID": "0",
    "registerID": "1",
    "shipToID": "0",
    "shopID": "1",
    "taxCategoryID": "1",
    "tipEmployeeID": "0",
    "Customer": {
      "customerID": "42", "firstName": "Marie", "lastName": "Tremblay", "archived": "false", "title": "Buyer",
      "company": "Atelier Nord", "companyRegistrationNumber": "", "vatNumber": "",
      "createTime": "2023-06-02T14:21:09+00:00", "timeStamp": "2024-02-11T16:40:27+00:00",
      "contactID": "57", "creditAccountID": "0", "customerTypeID": "2", "discountID": "0",
      "employeeID": "0", "noteID": "88", "taxCategoryID": "0"
    },
    "SaleLines": {
      "SaleLine": [
        {
          "saleLineID": "2310", "createTime": "2024-03-09T19:10:30+00:00", "timeStamp": "2024-03-09T19:12:44+00:00",
          "unitQuantity": "2", "unitPrice": "20", "normalUnitPrice": "0", "discountAmount": "0", "discountPercent": "0",
          "avgCost": "8.5", "fifoCost": "8", "tax": "true", "tax1Rate": "0.05", "tax2Rate": "0.09975",
          "isLayaway": "false", "isWorkorder": "false", "isSpecialOrder": "false",
          "displayableSubtotal": "40", "displayableUnitPrice": "20", "lineType": "",
          "calcLineDiscount": "0", "calcTransactionDiscount": "0", "calcTotal": "45.99", "calcSubtotal": "40",
          "calcTax1": "2", "calcTax2": "3.99", "taxClassID": "1", "customerID": "0", "discountID": "0",
          "employeeID": "3", "itemID": "12", "noteID": "0", "parentSaleLineID": "0", "shopID": "1",
          "saleID": "1204", "itemFeeID": "0"
        },
        {
          "saleLineID": "2311", "createTime": "2024-03-09T19:11:02+00:00", "timeStamp": "2024-03-09T19:12:44+00:00",
          "unitQuantity": "1", "unitPrice": "9.99", "normalUnitPrice": "0", "discountAmount": "0", "discountPercent": "0",
          "avgCost": "4.5", "fifoCost": "5", "tax": "true", "tax1Rate": "0.05", "tax2Rate": "0.09975",
          "isLayaway": "false", "isWorkorder": "false", "isSpecialOrder": "false",
          "displayableSubtotal": "9.99", "displayableUnitPrice": "9.99", "lineType": "",
          "calcLineDiscount": "0", "calcTransactionDiscount": "0", "calcTotal": "11.4860025", "calcSubtotal": "9.99",
          "calcTax1": "0.4995", "calcTax2": "0.9965025", "taxClassID": "1", "customerID": "0", "discountID": "0",
          "employeeID": "3", "itemID": "28", "noteID": "0", "parentSaleLineID": "0", "shopID": "1",
          "saleID": "1204", "itemFeeID": "0"
        }
      ]
    },
    "SalePayments": {
      "SalePayment": {
        "salePaymentID": "977", "amount": "57.48", "tipAmount": "0", "createTime": "2024-03-09T19:12:40+00:00",
        "archived": "false", "remoteReference": "", "paymentID": "6f1c2a7e-0d3b-4c55-9b7a-2d4e8f1a9c30",
        "saleID": "1204", "paymentTypeID": "3", "ccChargeID": "0", "refPaymentID": "0", "registerID": "1",
        "employeeID": "3", "creditAccountID": "0",
        "PaymentType": {
          "paymentTypeID": "3", "code": "Credit Card", "name": "Credit Card", "requireCustomer": "false",
          "archived": "false", "internalReserved": "false", "type": "credit card", "channel": "",
          "refundAsPaymentTypeID": "3"
        }
      }
    },
    "taxTotal": "7.49"
  }
}`
