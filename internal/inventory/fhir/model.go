// Package fhir reads and writes device inventories as HL7 FHIR R4 Device
// resources: a single Device, a Bundle of entries (other resource types are
// skipped and counted) or NDJSON (bulk-data export: one resource per line).
// Fields FHIR R4 has no element for travel in extensions under
// ExtensionBase; see docs/INVENTORY_FORMATS.md for the mapping table.
package fhir

// ExtensionBase is the prefix of MedWarden's extension URLs; the field name
// follows, e.g. ExtensionBase+"criticality".
const ExtensionBase = "https://medwarden.org/fhir/StructureDefinition/"

// AssetTagSystem is the identifier system the writer uses for asset tags.
const AssetTagSystem = "https://medwarden.org/fhir/sid/asset-tag"

// The extensions the reader understands and the writer produces, by
// MedWarden field name. Each holds one value; mac and ip repeat.
const (
	ExtSite             = ExtensionBase + "site"
	ExtDepartment       = ExtensionBase + "department"
	ExtCriticality      = ExtensionBase + "criticality"
	ExtPatientConnected = ExtensionBase + "patient-connected"
	ExtPHI              = ExtensionBase + "phi"
	ExtZone             = ExtensionBase + "zone"
	ExtOS               = ExtensionBase + "os"
	ExtEndOfSupport     = ExtensionBase + "end-of-support"
	ExtEndOfLife        = ExtensionBase + "end-of-life"
	ExtMAC              = ExtensionBase + "mac"
	ExtIP               = ExtensionBase + "ip"
	ExtHostname         = ExtensionBase + "hostname"
)

// The subset of FHIR R4 datatypes and the Device resource that the
// inventory uses. Unknown elements are ignored on reading.

// Coding is a FHIR Coding.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a FHIR CodeableConcept.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Identifier is a FHIR Identifier.
type Identifier struct {
	Use    string           `json:"use,omitempty"`
	Type   *CodeableConcept `json:"type,omitempty"`
	System string           `json:"system,omitempty"`
	Value  string           `json:"value,omitempty"`
}

// Reference is a FHIR Reference.
type Reference struct {
	Reference string `json:"reference,omitempty"`
	Display   string `json:"display,omitempty"`
}

// Extension is a FHIR Extension with the value types MedWarden uses.
type Extension struct {
	URL                  string           `json:"url"`
	ValueString          *string          `json:"valueString,omitempty"`
	ValueCode            *string          `json:"valueCode,omitempty"`
	ValueBoolean         *bool            `json:"valueBoolean,omitempty"`
	ValueDate            *string          `json:"valueDate,omitempty"`
	ValueDateTime        *string          `json:"valueDateTime,omitempty"`
	ValueURI             *string          `json:"valueUri,omitempty"`
	ValueCodeableConcept *CodeableConcept `json:"valueCodeableConcept,omitempty"`
}

// UDICarrier is Device.udiCarrier.
type UDICarrier struct {
	DeviceIdentifier string `json:"deviceIdentifier,omitempty"`
	Issuer           string `json:"issuer,omitempty"`
	Jurisdiction     string `json:"jurisdiction,omitempty"`
	CarrierAIDC      string `json:"carrierAIDC,omitempty"`
	CarrierHRF       string `json:"carrierHRF,omitempty"`
	EntryType        string `json:"entryType,omitempty"`
}

// DeviceName is Device.deviceName.
type DeviceName struct {
	Name string `json:"name"`
	Type string `json:"type"` // udi-label-name | user-friendly-name | patient-reported-name | manufacturer-name | model-name | other
}

// DeviceVersion is Device.version.
type DeviceVersion struct {
	Type      *CodeableConcept `json:"type,omitempty"`
	Component *Identifier      `json:"component,omitempty"`
	Value     string           `json:"value"`
}

// ContactPoint is a FHIR ContactPoint.
type ContactPoint struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// Device is the FHIR R4 Device resource (the elements MedWarden maps).
type Device struct {
	ResourceType string           `json:"resourceType"`
	ID           string           `json:"id,omitempty"`
	Extension    []Extension      `json:"extension,omitempty"`
	Identifier   []Identifier     `json:"identifier,omitempty"`
	UDICarrier   []UDICarrier     `json:"udiCarrier,omitempty"`
	Status       string           `json:"status,omitempty"`
	Manufacturer string           `json:"manufacturer,omitempty"`
	SerialNumber string           `json:"serialNumber,omitempty"`
	DeviceName   []DeviceName     `json:"deviceName,omitempty"`
	ModelNumber  string           `json:"modelNumber,omitempty"`
	Type         *CodeableConcept `json:"type,omitempty"`
	Version      []DeviceVersion  `json:"version,omitempty"`
	Owner        *Reference       `json:"owner,omitempty"`
	Contact      []ContactPoint   `json:"contact,omitempty"`
	Location     *Reference       `json:"location,omitempty"`
	URL          string           `json:"url,omitempty"`
}
