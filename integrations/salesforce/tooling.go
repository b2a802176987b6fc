package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// CustomField is a custom field to create through the Tooling API.
type CustomField struct {
	// FullName is "Object.Field__c", e.g. "Contact.Lightspeed_Customer_ID__c".
	FullName string              `json:"FullName"`
	Metadata CustomFieldMetadata `json:"Metadata"`
}

// CustomFieldMetadata is the Metadata API description of a field.
type CustomFieldMetadata struct {
	Label string `json:"label"`
	// Type is a Metadata API type: Text, Number, Checkbox, Date, DateTime,
	// Email, Phone, Currency, Picklist, LongTextArea, Lookup, ...
	Type              string `json:"type"`
	Length            int    `json:"length,omitempty"`
	Precision         int    `json:"precision,omitempty"`
	Scale             *int   `json:"scale,omitempty"`
	VisibleLines      int    `json:"visibleLines,omitempty"`
	ExternalID        bool   `json:"externalId,omitempty"`
	Unique            bool   `json:"unique,omitempty"`
	CaseSensitive     bool   `json:"caseSensitive,omitempty"`
	Required          bool   `json:"required,omitempty"`
	DefaultValue      string `json:"defaultValue,omitempty"`
	Description       string `json:"description,omitempty"`
	InlineHelpText    string `json:"inlineHelpText,omitempty"`
	ReferenceTo       string `json:"referenceTo,omitempty"`
	RelationshipName  string `json:"relationshipName,omitempty"`
	RelationshipLabel string `json:"relationshipLabel,omitempty"`
	DeleteConstraint  string `json:"deleteConstraint,omitempty"`
}

// CreateCustomField creates a custom field and returns its Tooling id. The
// object's cached describe is dropped, so the next Describe shows the field.
func (c *Client) CreateCustomField(ctx context.Context, f CustomField) (string, error) {
	obj, field, ok := strings.Cut(f.FullName, ".")
	if !ok || checkName(obj) != nil || checkName(field) != nil || !strings.HasSuffix(field, "__c") {
		return "", fmt.Errorf("salesforce: create custom field: full name %q must be Object.Field__c", f.FullName)
	}
	if f.Metadata.Label == "" || f.Metadata.Type == "" {
		return "", fmt.Errorf("salesforce: create custom field %s: label and type are required", f.FullName)
	}
	req, err := c.NewRequest(ctx, http.MethodPost, "tooling/sobjects/CustomField", f)
	if err != nil {
		return "", err
	}
	var res SaveResult
	if _, err := c.Do(req, &res); err != nil {
		return "", fmt.Errorf("salesforce: create custom field %s: %w", f.FullName, err)
	}
	if !res.Success {
		return "", fmt.Errorf("salesforce: create custom field %s: %w", f.FullName, res.Err())
	}
	c.InvalidateDescribes(obj)
	return res.ID, nil
}
