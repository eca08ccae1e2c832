package dtdl_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// vkey is the comparable part of a validation Error.
type vkey struct{ Path, Rule string }

func vkeys(err error) []vkey {
	var out []vkey
	for _, k := range keys(err) {
		out = append(out, vkey{k.Path, k.Rule})
	}
	return out
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestValidateTwin(t *testing.T) {
	plant := loadPlant(t).Interface("dtmi:test:Plant;1")
	const okAssay = `"assay": {"$metadata": {}, "grade": 0.05}`
	tests := []struct {
		name string
		doc  string
		want []vkey
	}{
		{"valid", `{"$dtId": "p1", "$metadata": {"$model": "dtmi:test:Plant;1", "capacity": {"unit": "kilogram"}},
			"name": "Plant 1", "capacity": 2.5, "status": "running", "level": 2, "address": {"city": "Perth", "since": "2020-01-31"},
			"tags": {"a": "b"}, "grades": [0.1, 0.2], "location": {"type": "Point", "coordinates": [115.8, -31.9]},
			"commissioned": "2024-05-01T10:00:00Z", "batches": 12, ` + okAssay + `}`, nil},
		{"wrong types", `{"name": 3, "capacity": "big", "grades": [1, "x"], "batches": 1.5, ` + okAssay + `}`,
			[]vkey{{"/batches", "schema-type"}, {"/capacity", "schema-type"}, {"/grades/1", "schema-type"}, {"/name", "schema-type"}}},
		{"enum values", `{"status": "broken", "level": 3, ` + okAssay + `}`,
			[]vkey{{"/level", "enum-value"}, {"/status", "enum-value"}}},
		{"unknown and non-properties", `{"nope": 1, "temp": 20, "ships": [], ` + okAssay + `}`,
			[]vkey{{"/nope", "property-unknown"}, {"/ships", "property-kind"}, {"/temp", "property-kind"}}},
		{"nested object", `{"address": {"city": 1, "since": "31/01/2020", "zip": "x"}, ` + okAssay + `}`,
			[]vkey{{"/address/city", "schema-type"}, {"/address/since", "schema-type"}, {"/address/zip", "field-unknown"}}},
		{"missing component", `{"name": "x"}`, []vkey{{"/assay", "component-required"}}},
		{"component body", `{"assay": {"grade": "high"}}`, []vkey{{"/assay", "metadata"}, {"/assay/grade", "schema-type"}}},
		{"metadata", `{"$metadata": {"$model": "dtmi:test:Other;1", "ghost": {}, "capacity": {"unit": "metre"}}, "$bogus": 1, ` + okAssay + `}`,
			[]vkey{{"/$metadata/$model", "metadata-model"}, {"/$metadata/capacity/unit", "unit"}, {"/$metadata/ghost", "metadata"}, {"/$bogus", "system-property"}}},
		{"geo and time", `{"location": {"type": "Point", "coordinates": [1]}, "commissioned": "yesterday", ` + okAssay + `}`,
			[]vkey{{"/commissioned", "schema-type"}, {"/location/coordinates", "geojson"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := plant.ValidateTwin(decode(t, tt.doc))
			if diff := cmp.Diff(tt.want, vkeys(err)); diff != "" {
				t.Errorf("ValidateTwin mismatch (-want +got):\n%s\n%v", diff, err)
			}
		})
	}
}

func TestValidateProperty(t *testing.T) {
	plant := loadPlant(t).Interface("dtmi:test:Plant;1")
	tests := []struct {
		pointer string
		value   any
		want    []vkey
	}{
		{"/capacity", 3.0, nil},
		{"/capacity", "x", []vkey{{"/capacity", "schema-type"}}},
		{"/address/city", "Perth", nil},
		{"/address/zip", "6000", []vkey{{"/address/zip", "field-unknown"}}},
		{"/tags/anything", "v", nil},
		{"/tags/anything", 1.0, []vkey{{"/tags/anything", "schema-type"}}},
		{"/grades/0", 1.5, nil},
		{"/grades/x", 1.5, []vkey{{"/grades/x", "array-index"}}},
		{"/assay/grade", 0.1, nil},
		{"/assay/grade", true, []vkey{{"/assay/grade", "schema-type"}}},
		{"/temp", 1.0, []vkey{{"/temp", "property-kind"}}},
		{"/ghost", 1.0, []vkey{{"/ghost", "property-unknown"}}},
		{"capacity", 1.0, []vkey{{"capacity", "pointer"}}},
		{"/status", nil, []vkey{{"/status", "property-null"}}},
		{"/level", json.Number("1"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.pointer, func(t *testing.T) {
			err := plant.ValidateProperty(tt.pointer, tt.value)
			if diff := cmp.Diff(tt.want, vkeys(err)); diff != "" {
				t.Errorf("ValidateProperty(%q, %v) mismatch (-want +got):\n%s", tt.pointer, tt.value, diff)
			}
		})
	}
}

func TestValidateRelationship(t *testing.T) {
	ms := loadPlant(t)
	plant := ms.Interface("dtmi:test:Plant;1")
	tests := []struct {
		name   string
		rel    string
		target string
		props  map[string]any
		count  int
		want   []vkey
	}{
		{"valid", "ships", "dtmi:test:Plant;1", map[string]any{"tonnesPerYear": 1200.0, "$relationshipId": "r1"}, 1, nil},
		{"any target", "owner", "dtmi:test:Assay;1", nil, 10, nil},
		{"wrong target", "ships", "dtmi:test:Assay;1", nil, 1, []vkey{{"/ships", "relationship-target"}}},
		{"too many", "ships", "dtmi:test:Plant;1", nil, 3, []vkey{{"/ships", "relationship-multiplicity"}}},
		{"bad props", "ships", "dtmi:test:Plant;1", map[string]any{"tonnesPerYear": "lots", "x": 1.0, "$bad": 1}, 1,
			[]vkey{{"/ships/$bad", "system-property"}, {"/ships/tonnesPerYear", "schema-type"}, {"/ships/x", "property-unknown"}}},
		{"not a relationship", "capacity", "", nil, 1, []vkey{{"/capacity", "relationship-unknown"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := ms.Interface(tt.target)
			err := plant.ValidateRelationship(tt.rel, target, tt.props, tt.count)
			if diff := cmp.Diff(tt.want, vkeys(err)); diff != "" {
				t.Errorf("ValidateRelationship mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateTelemetry(t *testing.T) {
	plant := loadPlant(t).Interface("dtmi:test:Plant;1")
	tests := []struct {
		name string
		msg  string
		want []vkey
	}{
		{"valid", `{"temp": 21.5}`, nil},
		{"wrong", `{"temp": "hot", "name": "x", "what": 1}`, []vkey{{"/name", "telemetry-kind"}, {"/temp", "schema-type"}, {"/what", "telemetry-unknown"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := plant.ValidateTelemetry(decode(t, tt.msg))
			if diff := cmp.Diff(tt.want, vkeys(err)); diff != "" {
				t.Errorf("ValidateTelemetry mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
