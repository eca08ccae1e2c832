package supply_test

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lodestone/supply"
)

func TestStressHandCases(t *testing.T) {
	tests := []struct {
		name string
		net  supply.Network
		want []supply.StressResult
	}{
		{
			name: "single tier, one supplier",
			net: supply.Network{
				Nodes: []supply.Node{
					{ID: "S", CapacityPerPeriod: 10},
					{ID: "O", CapacityPerPeriod: 10, Inventory: 20, DemandPerPeriod: 10, LossPerUnit: 5},
				},
				Arcs:      []supply.Arc{{From: "S", To: "O", Ratio: 1}},
				Scenarios: []supply.Scenario{{Name: "S down", Disrupted: []supply.NodeID{"S"}, TTRPeriods: 5}},
			},
			// Demand 50 over 5 periods, 20 in stock: 30 lost; stock lasts 2 periods.
			want: []supply.StressResult{{Name: "S down", TTR: 5, LostUnits: 30, LossValue: 150, REI: 1, TTS: 2, ShortagePeriods: 3, Exposed: true}},
		},
		{
			name: "single tier, alternative sources",
			net: supply.Network{
				Nodes: []supply.Node{
					{ID: "A", CapacityPerPeriod: 6},
					{ID: "B", CapacityPerPeriod: 6},
					{ID: "O", CapacityPerPeriod: 12, Inventory: 8, DemandPerPeriod: 10, LossPerUnit: 1},
				},
				Arcs: []supply.Arc{{From: "A", To: "O", Ratio: 1, Material: "m"}, {From: "B", To: "O", Ratio: 1, Material: "m"}},
				Scenarios: []supply.Scenario{
					{Name: "A down", Disrupted: []supply.NodeID{"A"}, TTRPeriods: 4},
					{Name: "A half", Disrupted: []supply.NodeID{"A"}, TTRPeriods: 4, CapacityFactor: 0.5},
				},
			},
			// A down: 8 + 6t ≥ 10t ⇒ t = 2; lost over 4 = 40 − 8 − 24 = 8.
			// A half: 8 + 9t ≥ 10t ⇒ t = 8 ≥ TTR; lost 40 − 8 − 36 < 0 ⇒ 0.
			want: []supply.StressResult{
				{Name: "A down", TTR: 4, LostUnits: 8, LossValue: 8, REI: 1, TTS: 2, ShortagePeriods: 2, Exposed: true},
				{Name: "A half", TTR: 4, LostUnits: 0, LossValue: 0, REI: 0, TTS: 8},
			},
		},
		{
			name: "multi-tier with a bill of materials",
			net: supply.Network{
				Nodes: []supply.Node{
					{ID: "M1", CapacityPerPeriod: 100},
					{ID: "M2", CapacityPerPeriod: 40},
					{ID: "P", CapacityPerPeriod: 60},
					{ID: "F", CapacityPerPeriod: 1000},
					{ID: "G", CapacityPerPeriod: 50, Inventory: 30},
					{ID: "O", CapacityPerPeriod: 40, Inventory: 60, DemandPerPeriod: 40, LossPerUnit: 10},
				},
				Arcs: []supply.Arc{
					{From: "M1", To: "P", Ratio: 2, Material: "conc"},
					{From: "M2", To: "P", Ratio: 2, Material: "conc"},
					{From: "P", To: "G", Ratio: 0.3, Material: "oxide"},
					{From: "F", To: "G", Ratio: 0.7, Material: "iron"},
					{From: "G", To: "O", Ratio: 1},
				},
				Scenarios: []supply.Scenario{
					{Name: "P down", Disrupted: []supply.NodeID{"P"}, TTRPeriods: 3},
					{Name: "M1 down", Disrupted: []supply.NodeID{"M1"}, TTRPeriods: 3},
					{Name: "F down", Disrupted: []supply.NodeID{"F"}, TTRPeriods: 3},
				},
				TTSCapPeriods: 999,
			},
			// P or F down: G makes nothing, ships its 30; O has 60 + 30 for
			// 120 demanded: 30 lost, TTS = 90/40 = 2.25. M1 down: M2 gives
			// 20 oxide per period, enough for G's 50: no loss, survives.
			want: []supply.StressResult{
				{Name: "P down", TTR: 3, LostUnits: 30, LossValue: 300, REI: 1, TTS: 2.25, ShortagePeriods: 0.75, Exposed: true},
				{Name: "M1 down", TTR: 3, TTS: 999, TTSCapped: true},
				{Name: "F down", TTR: 3, LostUnits: 30, LossValue: 300, REI: 1, TTS: 2.25, ShortagePeriods: 0.75, Exposed: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := supply.Stress(t.Context(), &tt.net, nil)
			if err != nil {
				t.Fatal(err)
			}
			opt := cmp.Options{cmpopts.EquateApprox(0, 1e-7), cmpopts.IgnoreFields(supply.StressResult{}, "Lost")}
			if d := cmp.Diff(tt.want, got, opt); d != "" {
				t.Errorf("Stress mismatch (-want +got):\n%s", d)
			}
		})
	}
}

var _ = math.Inf
