package scenario

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/supply"
	"lodestone/world"
)

// TestOwnedCoversEncode checks that every property Encode can write is in
// owned, so that Update removes those a run no longer has.
func TestOwnedCoversEncode(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	so := supply.Date("2025-01-02")
	full := Run{
		ID: "run-1", Name: "full", Status: Failed, AsOf: &now, CompletedAt: &now, Error: "e",
		KPIs:       &supply.DemandKPIs{FirstStockout: &so, FillRates: map[supply.NodeID]float64{"a": 1}},
		Provenance: []world.ProcessLink{{Node: "a"}}, Result: json.RawMessage(`{}`), Scenario: json.RawMessage(`{}`),
	}
	var keys []string
	for k := range Encode(&full).Properties {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := slices.Sorted(slices.Values(owned))
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("properties of a fully set run vs owned (-owned +encoded):\n%s", diff)
	}
}
