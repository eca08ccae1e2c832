package models_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/dtdl"
	"lodestone/models"
)

// parseAll parses every model file together with the project's own DTDL
// parser, with undefined extensions disallowed (the strict setting).
func parseAll(t testing.TB) *dtdl.ModelSet {
	t.Helper()
	var docs []dtdl.Document
	for _, f := range models.Files() {
		docs = append(docs, dtdl.Document(f))
	}
	ms, err := dtdl.Parse(docs, &dtdl.Options{})
	if err != nil {
		var el *dtdl.ErrorList
		if errors.As(err, &el) {
			for _, e := range el.Errors {
				t.Errorf("%v", e)
			}
			if len(el.Unresolved) > 0 {
				t.Errorf("unresolved: %v", el.Unresolved)
			}
		}
		t.Fatalf("dtdl.Parse(models) = %v", err)
	}
	return ms
}

func TestParseWithDTDL(t *testing.T) {
	ms := parseAll(t)
	if got, want := ms.Len(), len(models.Files()); got != want {
		t.Errorf("ModelSet.Len() = %d, want %d", got, want)
	}
	for _, f := range models.Files() {
		if ms.Interface(fileID(f.Name)) == nil {
			t.Errorf("Interface(%s) = nil", fileID(f.Name))
		}
	}
}

func fileID(name string) string { return "dtmi:lodestone:" + name[:len(name)-len(".json")] + ";1" }

// TestResolvedOntology checks what the other layers rely on: inheritance,
// units and edge properties as the parser resolves them.
func TestResolvedOntology(t *testing.T) {
	ms := parseAll(t)

	isA := []struct{ model, base string }{
		{models.Mine, models.Facility},
		{models.Mine, models.Entity},
		{models.SeparationPlant, models.SimulatedPerformance},
		{models.SXCascade, models.SimulatedPerformance},
		{models.SXCascade, models.ProcessUnit},
		{models.SXStage, models.ProcessUnit},
		{models.ExportControl, models.Policy},
		{models.Tariff, models.Policy},
		{models.Subsidy, models.Policy},
		{models.Pump, models.Equipment},
		{models.Analyser, models.Equipment},
		{models.OEM, models.Facility},
		{models.Stockpile, models.Facility},
		{models.Warehouse, models.Facility},
	}
	for _, tt := range isA {
		in := ms.Interface(tt.model)
		if in == nil || !in.IsAID(tt.base) {
			t.Errorf("%s IsAID(%s) = false, want true", tt.model, tt.base)
		}
	}

	units := []struct {
		model, name string
		want        dtdl.Semantic
	}{
		{models.Facility, "inventoryTonnes", dtdl.Semantic{SemanticType: "Mass", Unit: "tonne"}},
		{models.Facility, "outputRate", dtdl.Semantic{SemanticType: "MassFlowRate", Unit: "kilogramPerHour"}},
		{models.Mine, "inventoryTonnes", dtdl.Semantic{SemanticType: "Mass", Unit: "tonne"}},
		{models.Deposit, "gradePercentTreo", dtdl.Semantic{SemanticType: "Concentration", Unit: "percent"}},
		{models.Lot, "purity", dtdl.Semantic{SemanticType: "Concentration", Unit: "unity"}},
		{models.Calciner, "temperatureSetpoint", dtdl.Semantic{SemanticType: "Temperature", Unit: "degreeCelsius"}},
		{models.SXStage, "temperature", dtdl.Semantic{SemanticType: "Temperature", Unit: "degreeCelsius"}},
		{models.SXStage, "aqueousFlow", dtdl.Semantic{SemanticType: "VolumeFlowRate", Unit: "litrePerHour"}},
		{models.Settler, "organicInAqueous", dtdl.Semantic{SemanticType: "Concentration", Unit: "partsPerMillion"}},
		{models.Lane, "leadTimeDays", dtdl.Semantic{SemanticType: "TimeSpan", Unit: "day"}},
		{models.SeparationPlant, "throughputCapacityTonnesReoPerYear", dtdl.Semantic{}},
	}
	for _, tt := range units {
		in := ms.Interface(tt.model)
		if in == nil {
			t.Fatalf("Interface(%s) = nil", tt.model)
		}
		var got dtdl.Semantic
		switch c := in.Content(tt.name).(type) {
		case *dtdl.Property:
			got = c.Semantic
		case *dtdl.Telemetry:
			got = c.Semantic
		default:
			t.Errorf("%s.%s: content %T, want a Property or Telemetry", tt.model, tt.name, c)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s.%s semantic (-want +got):\n%s", tt.model, tt.name, diff)
		}
	}

	edges := []struct {
		model, rel, target string
		props              []string
	}{
		{models.Facility, "feeds", models.Facility, []string{"materialCode", "tonnesPerYear", "leadTimeDays", "ratio", "standby"}},
		{models.Mine, "feeds", models.Facility, []string{"materialCode", "tonnesPerYear", "leadTimeDays", "ratio", "standby"}},
		{models.Company, "owns", "", []string{"sharePercent", "since"}},
		{models.Lane, "from", models.Facility, nil},
		{models.Lane, "to", models.Facility, nil},
		{models.OEM, "qualifiedSupplier", models.Facility, []string{"state", "since", "part"}},
		{models.Material, "requires", models.Material, []string{"tonnesPerTonne"}},
		{models.SXCascade, "hasStage", models.SXStage, nil},
		{models.Policy, "issuedBy", models.Country, nil},
	}
	for _, tt := range edges {
		r := ms.Interface(tt.model).Relationship(tt.rel)
		if r == nil {
			t.Errorf("%s.Relationship(%q) = nil", tt.model, tt.rel)
			continue
		}
		if r.Target != tt.target {
			t.Errorf("%s.%s target = %q, want %q", tt.model, tt.rel, r.Target, tt.target)
		}
		var props []string
		for _, p := range r.Properties {
			props = append(props, p.Name)
		}
		if diff := cmp.Diff(tt.props, props); diff != "" {
			t.Errorf("%s.%s edge properties (-want +got):\n%s", tt.model, tt.rel, diff)
		}
	}
}

func BenchmarkParseOntology(b *testing.B) {
	var docs []dtdl.Document
	for _, f := range models.Files() {
		docs = append(docs, dtdl.Document(f))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dtdl.Parse(docs, nil); err != nil {
			b.Fatal(err)
		}
	}
}
