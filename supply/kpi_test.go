package supply_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lodestone/supply"
)

func date(s string) *supply.Date { d := supply.Date(s); return &d }

// kpiNetwork has a source without demand and two demand nodes, a with 30
// and b with 10 units per period: weights 3/4 and 1/4.
func kpiNetwork() *supply.Network {
	return &supply.Network{Nodes: []supply.Node{
		{ID: "mine", CapacityPerPeriod: 100},
		{ID: "a", CapacityPerPeriod: 50, DemandPerPeriod: 30},
		{ID: "b", CapacityPerPeriod: 50, DemandPerPeriod: 10},
	}}
}

// TestRunKPIs checks the demand KPIs of one run against hand-computed
// values.
func TestRunKPIs(t *testing.T) {
	noDemand := &supply.Network{Nodes: []supply.Node{{ID: "mine", CapacityPerPeriod: 1}, {ID: "plant", CapacityPerPeriod: 1}}}
	tests := []struct {
		name string
		net  *supply.Network
		res  map[supply.NodeID]*supply.NodeKPI
		want supply.DemandKPIs
	}{{
		// Fill rate (30·0.9 + 10·0.5) / 40 = 32/40 = 0.8; lost 90 + 50;
		// the mine's stockout on 2 January is not a demand node's, so the
		// first is b's on 15 February.
		name: "two demand nodes",
		net:  kpiNetwork(),
		res: map[supply.NodeID]*supply.NodeKPI{
			"mine": {FillRate: 0.8, Lost: 7, FirstStockout: date("2025-01-02")},
			"a":    {FillRate: 0.9, Lost: 90, FirstStockout: date("2025-03-01")},
			"b":    {FillRate: 0.5, Lost: 50, FirstStockout: date("2025-02-15")},
		},
		want: supply.DemandKPIs{Lost: 140, FillRate: 0.8, FirstStockout: date("2025-02-15"),
			FillRates: map[supply.NodeID]float64{"mine": 0.8, "a": 0.9, "b": 0.5}},
	}, {
		// Everything filled: fill rate (30 + 10) / 40 = 1, no stockout.
		name: "no stockout",
		net:  kpiNetwork(),
		res:  map[supply.NodeID]*supply.NodeKPI{"mine": {FillRate: 1}, "a": {FillRate: 1}, "b": {FillRate: 1}},
		want: supply.DemandKPIs{FillRate: 1, FillRates: map[supply.NodeID]float64{"mine": 1, "a": 1, "b": 1}},
	}, {
		// b is missing from the result and counts as filling nothing:
		// (30·1 + 10·0) / 40 = 0.75.
		name: "demand node missing from the result",
		net:  kpiNetwork(),
		res:  map[supply.NodeID]*supply.NodeKPI{"a": {FillRate: 1}},
		want: supply.DemandKPIs{FillRate: 0.75, FillRates: map[supply.NodeID]float64{"a": 1}},
	}, {
		// No demand node: nothing to fill, fill rate 1 by definition, and
		// the plant's lost units are not external demand.
		name: "no demand",
		net:  noDemand,
		res:  map[supply.NodeID]*supply.NodeKPI{"mine": {FillRate: 0.5, Lost: 3, FirstStockout: date("2025-01-01")}, "plant": {FillRate: 0.25}},
		want: supply.DemandKPIs{FillRate: 1, FillRates: map[supply.NodeID]float64{"mine": 0.5, "plant": 0.25}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := supply.RunKPIs(tt.net, &supply.Result{Nodes: tt.res})
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("RunKPIs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStudyKPIs checks the demand KPIs of a Monte Carlo study, which are
// built from the means over runs, against hand-computed values.
func TestStudyKPIs(t *testing.T) {
	dist := func(fill, lost float64) *supply.NodeDist {
		return &supply.NodeDist{FillRate: supply.Dist{Mean: fill}, Lost: supply.Dist{Mean: lost}, FirstStockoutDay: supply.Dist{N: 3, Mean: 12}}
	}
	tests := []struct {
		name string
		res  map[supply.NodeID]*supply.NodeDist
		want supply.DemandKPIs
	}{{
		// Mean fill rates 0.6 and 0.2: (30·0.6 + 10·0.2) / 40 = 20/40 =
		// 0.5; mean lost 12.5 + 4.5 = 17; a study has no first stockout.
		name: "means over runs",
		res:  map[supply.NodeID]*supply.NodeDist{"mine": dist(0.9, 1), "a": dist(0.6, 12.5), "b": dist(0.2, 4.5)},
		want: supply.DemandKPIs{Lost: 17, FillRate: 0.5, FillRates: map[supply.NodeID]float64{"mine": 0.9, "a": 0.6, "b": 0.2}},
	}, {
		// Only b reported: (30·0 + 10·1) / 40 = 0.25.
		name: "demand node missing from the result",
		res:  map[supply.NodeID]*supply.NodeDist{"b": dist(1, 0)},
		want: supply.DemandKPIs{FillRate: 0.25, FillRates: map[supply.NodeID]float64{"b": 1}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := supply.StudyKPIs(kpiNetwork(), &supply.MCResult{Runs: 3, Nodes: tt.res})
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("StudyKPIs (-want +got):\n%s", diff)
			}
		})
	}
}

func ExampleRunKPIs() {
	net := &supply.Network{Nodes: []supply.Node{
		{ID: "oem-a", CapacityPerPeriod: 50, DemandPerPeriod: 30},
		{ID: "oem-b", CapacityPerPeriod: 50, DemandPerPeriod: 10},
	}}
	short := supply.Date("2025-02-15")
	res := &supply.Result{Nodes: map[supply.NodeID]*supply.NodeKPI{
		"oem-a": {FillRate: 0.9, Lost: 90},
		"oem-b": {FillRate: 0.5, Lost: 50, FirstStockout: &short},
	}}
	k := supply.RunKPIs(net, res)
	fmt.Printf("lost %.0f, fill rate %.2f, first stockout %s\n", k.Lost, k.FillRate, *k.FirstStockout)
	// Output: lost 140, fill rate 0.80, first stockout 2025-02-15
}
