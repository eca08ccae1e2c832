package scenario_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/models"
	"lodestone/scenario"
	"lodestone/supply"
	"lodestone/twin"
	"lodestone/world"
)

var (
	created   = time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.UTC)
	completed = time.Date(2025, 3, 1, 9, 31, 5, 0, time.UTC)
	asOf      = time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC)
)

// runningStudy is a Monte Carlo study under way: no KPIs, result or
// completion yet.
func runningStudy() scenario.Run {
	return scenario.Run{
		ID: "run-20250301-093000-0a1b2c3d", Status: scenario.Running, Runs: 40, Seed: 7,
		Start: "2025-01-01", Days: 365, InputHash: "sha256:00ff", ModelVersion: "lodestone/supply daily simulation v1",
		CreatedAt: created, Scenario: json.RawMessage(`{"days":365}`),
	}
}

// doneGraphRun is a finished single run on the twin graph's network, with
// every field set.
func doneGraphRun() scenario.Run {
	so := supply.Date("2025-02-15")
	return scenario.Run{
		ID: "run-20250301-093000-deadbeef", Name: "sep-cn at half", Status: scenario.Done, Runs: 1, Seed: 1 << 53,
		Graph: true, AsOf: &asOf, Start: "2025-01-01", Days: 90, InputHash: "sha256:abcd",
		ModelVersion: "lodestone/supply daily simulation v1",
		KPIs: &supply.DemandKPIs{Lost: 140.5, FillRate: 0.8, FirstStockout: &so,
			FillRates: map[supply.NodeID]float64{"mine-cn": 1, "magnet-jp": 0.8}},
		Provenance: []world.ProcessLink{{Node: "sep-my", Used: true, CapacityTonnesPerYear: 1.55, Recovery: 0.99, RecoveryBasis: "organic_Nd", Converged: true, ModelVersion: "sx v1"}},
		Error:      "", CreatedAt: created, CompletedAt: &completed,
		Scenario: json.RawMessage(`{"days":90}`), Result: json.RawMessage(`{"nodes":{}}`),
	}
}

// stored returns t as a store gives it back: through its JSON document,
// so numbers are float64 and maps map[string]any.
func stored(t *testing.T, tw twin.Twin) twin.Twin {
	t.Helper()
	b, err := json.Marshal(tw)
	if err != nil {
		t.Fatal(err)
	}
	var out twin.Twin
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEncodeDecode checks that a run survives the trip through its twin and
// the twin's JSON.
func TestEncodeDecode(t *testing.T) {
	failed := runningStudy()
	failed.Status, failed.Error, failed.CompletedAt = scenario.Failed, "context canceled", &completed
	tests := []struct {
		name string
		run  scenario.Run
	}{
		{"running study", runningStudy()},
		{"done graph run", doneGraphRun()},
		{"failed study", failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tw := scenario.Encode(&tt.run)
			if tw.ID != tt.run.ID || tw.Metadata.Model != models.ScenarioRun {
				t.Fatalf("Encode: twin %s of model %s, want %s of %s", tw.ID, tw.Metadata.Model, tt.run.ID, models.ScenarioRun)
			}
			got, err := scenario.Decode(stored(t, tw))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.run, got); diff != "" {
				t.Errorf("Decode(Encode(run)) (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEncodeProperties pins the property names and values of the
// ScenarioRun twin, which the dashboard and queries read.
func TestEncodeProperties(t *testing.T) {
	run := doneGraphRun()
	got := stored(t, scenario.Encode(&run)).Properties
	want := map[string]any{
		"name": "sep-cn at half", "status": "done", "runs": 1.0, "seed": float64(1 << 53), "fromGraph": true,
		"graphAsOf": "2025-02-28T00:00:00Z", "startDate": "2025-01-01", "days": 90.0,
		"inputHash": "sha256:abcd", "modelVersion": "lodestone/supply daily simulation v1",
		"scenarioJson": `{"days":90}`, "resultJson": `{"nodes":{}}`,
		"provenanceJson": `[{"node":"sep-my","used":true,"facility_capacity_tonnes_per_year":0,"capacity_tonnes_per_year":1.55,"recovery":0.99,"recovery_basis":"organic_Nd","converged":true,"model_version":"sx v1"}]`,
		"lostTonnes":     140.5, "demandFillRate": 0.8, "firstStockout": "2025-02-15",
		"fillRates": map[string]any{"mine-cn": 1.0, "magnet-jp": 0.8},
		"createdAt": "2025-03-01T09:30:00.123456789Z", "completedAt": "2025-03-01T09:31:05Z",
		"source": "computed by lodestone/supply daily simulation v1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Encode properties (-want +got):\n%s", diff)
	}
	// A name equal to the id reads back as no name.
	unnamed := runningStudy()
	unnamed.Name = string(unnamed.ID)
	if back, _ := scenario.Decode(stored(t, scenario.Encode(&unnamed))); back.Name != "" {
		t.Errorf("Decode of a run named by its id: Name = %q, want empty", back.Name)
	}
}

func TestDecodeNotARun(t *testing.T) {
	mine := twin.Twin{ID: "mine-cn", Metadata: twin.Metadata{Model: "dtmi:lodestone:Mine;1"}, Properties: map[string]any{"name": "Bayan Obo"}}
	if _, err := scenario.Decode(mine); !errors.Is(err, scenario.ErrNotFound) {
		t.Errorf("Decode(a Mine twin) error = %v, want one wrapping ErrNotFound", err)
	}
}
