package mapping

import (
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/tenants/setup"
)

// SObjectOf reduces an object's describe to what setup and the mapping
// keep of it (the discovery's cache): fields hidden as deprecated are left
// out, picklists keep their active values.
func SObjectOf(desc *salesforce.SObjectDescribe) setup.SObject {
	o := setup.SObject{Name: desc.Name, Label: desc.Label, Custom: desc.Custom, Createable: desc.Createable, Updateable: desc.Updateable}
	for i := range desc.Fields {
		f := &desc.Fields[i]
		if f.DeprecatedAndHidden {
			continue
		}
		sf := setup.SField{
			Name: f.Name, Label: f.Label, Type: f.Type, Length: f.Length, Custom: f.Custom,
			Createable: f.Createable, Updateable: f.Updateable, Required: f.RequiredOnCreate(),
			ExternalID: f.ExternalID, Unique: f.Unique, References: f.ReferenceTo,
		}
		for _, p := range f.PicklistValues {
			if p.Active {
				sf.Picklist = append(sf.Picklist, p.Value)
			}
		}
		o.Fields = append(o.Fields, sf)
	}
	return o
}
