package supply_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"lodestone/supply"
)

// textbook is the single-tier case of the research note (b.2, the teaching
// notebook's formulation) written as an analyst writes it, without
// material: three suppliers of 6 units a period each feed two OEMs with
// demand 5 each (O1 holds 10 units, O2 none). The suppliers are
// alternatives: any of them can serve either OEM.
func textbook() supply.Network {
	return supply.Network{
		Nodes: []supply.Node{
			{ID: "S1", CapacityPerPeriod: 6}, {ID: "S2", CapacityPerPeriod: 6}, {ID: "S3", CapacityPerPeriod: 6},
			{ID: "O1", CapacityPerPeriod: 10, Inventory: 10, DemandPerPeriod: 5},
			{ID: "O2", CapacityPerPeriod: 10, DemandPerPeriod: 5},
		},
		Arcs: []supply.Arc{
			{From: "S1", To: "O1", Ratio: 1}, {From: "S2", To: "O1", Ratio: 1}, {From: "S3", To: "O1", Ratio: 1},
			{From: "S1", To: "O2", Ratio: 1}, {From: "S2", To: "O2", Ratio: 1}, {From: "S3", To: "O2", Ratio: 1},
		},
	}
}

// TestTextbookWithoutMaterial checks the textbook answers (hand-computed
// from the LPs of b.2 and b.3 with y the shipments):
//
//   - the baseline (disrupted: []) loses nothing and survives to the cap;
//   - S1 down for 4 periods: S2 and S3 give 12 ≥ 10 a period, nothing lost;
//   - S1 and S2 down for 4: supply 6 × 4 = 24 against 4 × 10 − 10 = 30
//     needed, 6 lost; TTS from 10 + 6t = 10t is 2.5;
//   - every supplier down: O2 holds nothing, so TTS = 0, and 40 − 10 = 30
//     are lost over 4 periods.
//
// Read as a bill of materials (the old default) losing any one supplier
// would lose all production.
func TestTextbookWithoutMaterial(t *testing.T) {
	net := textbook()
	net.Scenarios = []supply.Scenario{
		{Name: "baseline", Disrupted: []supply.NodeID{}, TTRPeriods: 4},
		{Name: "S1", Disrupted: []supply.NodeID{"S1"}, TTRPeriods: 4},
		{Name: "S1+S2", Disrupted: []supply.NodeID{"S1", "S2"}, TTRPeriods: 4},
		{Name: "all", Disrupted: []supply.NodeID{"S1", "S2", "S3"}, TTRPeriods: 4},
	}
	res, err := supply.Stress(t.Context(), &net, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		lost, tts float64
		capped    bool
	}{{0, 999, true}, {0, 999, true}, {6, 2.5, false}, {30, 0, false}}
	for i, w := range want {
		r := res[i]
		if math.Abs(r.LostUnits-w.lost) > 1e-6 || math.Abs(r.TTS-w.tts) > 1e-6 || r.TTSCapped != w.capped {
			t.Errorf("%s: lost %g, TTS %g (capped %v), want %g, %g (%v)", r.Name, r.LostUnits, r.TTS, r.TTSCapped, w.lost, w.tts, w.capped)
		}
	}
	// REI: the worst scenario (all down, 30 lost) is 1; S1+S2 is 6/30.
	if math.Abs(res[2].REI-0.2) > 1e-9 || res[3].REI != 1 {
		t.Errorf("REI = %g, %g, want 0.2, 1", res[2].REI, res[3].REI)
	}
}

// TestTextbookSimulation runs the same network day by day (a period is a
// day) from rest (one day of flow in transit, yesterday's orders open, no
// input stock). S1 down from day 10 costs at most the one day its open
// orders take to move to S2 and S3 (its share of a day's flow, 10/3: the
// LP moves them at once); S1 and S2 down lose what S3 cannot make.
func TestTextbookSimulation(t *testing.T) {
	zero := 0.0
	run := func(down ...supply.NodeID) *supply.Result {
		sc := supply.SimScenario{Start: "2025-01-01", Days: 60, Network: textbook(), InitialState: supply.InitialAtRest, InitialCoverDays: &zero}
		for _, id := range down {
			sc.Shocks = append(sc.Shocks, supply.Shock{Node: id, From: "2025-01-11", To: "2025-03-01"})
		}
		res, err := supply.Run(t.Context(), &sc, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	lost := func(r *supply.Result) float64 { return r.Nodes["O1"].Lost + r.Nodes["O2"].Lost }
	if l := lost(run()); l != 0 {
		t.Errorf("baseline lost %g", l)
	}
	if l := lost(run("S1")); l > 10.0/3 {
		t.Errorf("S1 down: lost %g, want at most 10/3 (S2 and S3 are alternatives)", l)
	}
	// S1 and S2 down from day 10 to the end (50 days): S3 makes 6 of the
	// 10 a day, so 50 × 4 less O1's 10 units = 190 are lost, give or take
	// the two days orders take to move.
	if l := lost(run("S1", "S2")); math.Abs(l-190) > 2*4 {
		t.Errorf("S1 and S2 down: lost %g, want about 190", l)
	}
}
