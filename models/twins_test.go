package models_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"lodestone/dtdl"
	"lodestone/models"
)

// TestSampleTwinsValidate checks that twins written the way the world data
// will write them (testdata/twins.json) are valid against the ontology, with
// the project's own validator.
func TestSampleTwinsValidate(t *testing.T) {
	ms := parseAll(t)
	data, err := os.ReadFile(filepath.Join("testdata", "twins.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sample struct {
		Twins         []map[string]any `json:"twins"`
		Relationships []map[string]any `json:"relationships"`
	}
	if err := json.Unmarshal(data, &sample); err != nil {
		t.Fatalf("testdata/twins.json: %v", err)
	}
	byID := map[string]*dtdl.Interface{}
	for _, tw := range sample.Twins {
		id, _ := tw["$dtId"].(string)
		meta, _ := tw["$metadata"].(map[string]any)
		model, _ := meta["$model"].(string)
		in := ms.Interface(model)
		if in == nil {
			t.Errorf("twin %s: model %q not in the ontology", id, model)
			continue
		}
		byID[id] = in
		if err := in.ValidateTwin(tw); err != nil {
			t.Errorf("twin %s: ValidateTwin = %v", id, err)
		}
	}
	counts := map[[2]string]int{}
	for _, r := range sample.Relationships {
		src, _ := r["$sourceId"].(string)
		name, _ := r["$relationshipName"].(string)
		dst, _ := r["$targetId"].(string)
		if byID[src] == nil || byID[dst] == nil {
			t.Errorf("relationship %s -%s-> %s: unknown twin", src, name, dst)
			continue
		}
		counts[[2]string{src, name}]++
		if err := byID[src].ValidateRelationship(name, byID[dst], r, counts[[2]string{src, name}]); err != nil {
			t.Errorf("relationship %s -%s-> %s: %v", src, name, dst, err)
		}
	}
}

// TestInvalidTwinsRejected checks that the models constrain what they should:
// enums, units of measure as numbers, relationship targets and multiplicity.
func TestInvalidTwinsRejected(t *testing.T) {
	ms := parseAll(t)
	twins := []struct {
		name  string
		model string
		doc   string
	}{
		{"status not in enum", models.Mine, `{"status": "running"}`},
		{"tonnes as text", models.Facility, `{"inventoryTonnes": "lots"}`},
		{"undeclared property", models.Mine, `{"spec": {}}`},
		{"capacity on a country", models.Country, `{"capacityTonnesPerYear": 1}`},
		{"purity map of text", models.SeparationPlant, `{"purity": {"Nd": "high"}}`},
		{"cascade spec field typed", models.SXCascade, `{"spec": {"stages": "twelve"}}`},
		{"inlet phase not in enum", models.SXCascade, `{"spec": {"inlets": [{"phase": "vapour"}]}}`},
		{"equilibrium model not in enum", models.SXCascade, `{"spec": {"equilibrium": {"model": "langmuir"}}}`},
		{"controlled form not in enum", models.ExportControl, `{"controlledForms": ["ore", "scrap"]}`},
		{"location not a point", models.Mine, `{"location": {"type": "Point"}}`},
		{"date malformed", models.Policy, `{"announcedDate": "4 April 2025"}`},
	}
	for _, tt := range twins {
		t.Run(tt.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal([]byte(tt.doc), &doc); err != nil {
				t.Fatal(err)
			}
			if err := ms.Interface(tt.model).ValidateTwin(doc); err == nil {
				t.Errorf("ValidateTwin(%s, %s) = nil, want an error", tt.model, tt.doc)
			}
		})
	}

	edges := []struct {
		name         string
		model, rel   string
		target       string
		props        string
		count        int
		wantAccepted bool
	}{
		{"feeds with quantities", models.Mine, "feeds", models.Concentrator, `{"tonnesPerYear": 1, "leadTimeDays": 2, "ratio": 1, "materialCode": "x"}`, 1, true},
		{"owns with share", models.Company, "owns", models.SeparationPlant, `{"sharePercent": 50}`, 1, true},
		{"owns a company", models.Company, "owns", models.Company, `{}`, 1, true},
		{"feeds to a country", models.Mine, "feeds", models.Country, `{}`, 1, false},
		{"share as text", models.Company, "owns", models.Mine, `{"sharePercent": "half"}`, 1, false},
		{"second country", models.Mine, "locatedIn", models.Country, `{}`, 2, false},
		{"qualification state", models.OEM, "qualifiedSupplier", models.MagnetPlant, `{"state": "approved"}`, 1, false},
		{"undeclared relationship", models.Country, "feeds", models.Mine, `{}`, 1, false},
	}
	for _, tt := range edges {
		t.Run(tt.name, func(t *testing.T) {
			var props map[string]any
			if err := json.Unmarshal([]byte(tt.props), &props); err != nil {
				t.Fatal(err)
			}
			err := ms.Interface(tt.model).ValidateRelationship(tt.rel, ms.Interface(tt.target), props, tt.count)
			if (err == nil) != tt.wantAccepted {
				t.Errorf("ValidateRelationship(%s.%s -> %s, %s, %d) = %v, want accepted %v", tt.model, tt.rel, tt.target, tt.props, tt.count, err, tt.wantAccepted)
			}
		})
	}
}
