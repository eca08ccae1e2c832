package supply_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/supply"
)

func chain() supply.SimScenario {
	return supply.SimScenario{
		Start: "2025-01-01",
		Days:  60,
		Network: supply.Network{
			Nodes: []supply.Node{
				{ID: "M", Stage: "mine", Country: "CN", CapacityPerPeriod: 20},
				{ID: "O", Stage: "oem", Country: "US", CapacityPerPeriod: 10, Inventory: 50, DemandPerPeriod: 10,
					InputInventory: map[string]float64{"Dy oxide": 130}},
			},
			Arcs: []supply.Arc{{ID: "MO", From: "M", To: "O", Ratio: 1, Material: "Dy oxide", LeadTimeDays: 1, InTransit: 10}},
		},
	}
}

func TestRunHandChain(t *testing.T) {
	// O declares 130 input units on hand and 10 in transit (lead 1 day)
	// and keeps them as its target: it orders up to 130 + (1 + 1) × 10 =
	// 150 (the in-transit day and one day of open orders), and M's spare
	// capacity covers the first day's order in full, so the network stays
	// at rest with 130 on hand, 10 in transit, 10 on order. M is down on
	// days 10–39: arrivals stop after day 10, the input buffer lasts to day
	// 23, the 50 finished units to day 28: the first stockout is day 29
	// (30 Jan). With no other source, O's orders queue at M while it is
	// down, so M ships them on day 40, the day it restarts; they arrive on
	// day 41: stockout days 29–40, 120 lost.
	sc := chain()
	sc.Shocks = []supply.Shock{{Node: "M", From: "2025-01-11", To: "2025-02-09", CapacityFactor: 0}}
	res, err := supply.Run(t.Context(), &sc, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	o := res.Nodes["O"]
	first := supply.Date("2025-01-30")
	want := struct {
		First *supply.Date
		Days  int
		Fill  float64
	}{&first, 12, 1 - 120.0/600}
	got := struct {
		First *supply.Date
		Days  int
		Fill  float64
	}{o.FirstStockout, o.StockoutDays, o.FillRate}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("O KPIs mismatch (-want +got):\n%s", d)
	}
	if len(o.Monthly) != 3 || o.Monthly[1].Month != "2025-02" {
		t.Fatalf("monthly = %+v", o.Monthly)
	}
}

// TestRunArcFlows: at rest, the chain's lane carries what the OEM uses
// (10 a day for 60 days: produced × ratio), and each node's arcs add up to
// what it shipped; with two sources, the lanes split the same total.
func TestRunArcFlows(t *testing.T) {
	sc := chain()
	res, err := supply.Run(t.Context(), &sc, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	want := []supply.ArcFlow{{From: "M", To: "O", Material: "Dy oxide", Shipped: 600, Unit: supply.UpstreamUnits}}
	if diff := cmp.Diff(want, res.Arcs); diff != "" {
		t.Errorf("arcs (-want +got):\n%s", diff)
	}
	if use := res.Nodes["O"].Produced * sc.Network.Arcs[0].Ratio; res.Arcs[0].Shipped != use {
		t.Errorf("lane M→O shipped %v, O used %v", res.Arcs[0].Shipped, use)
	}
	two := randomScenario()
	res, err = supply.Run(t.Context(), &two, rand.New(rand.NewPCG(3, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Arcs) != len(two.Network.Arcs) {
		t.Fatalf("%d arcs, want %d", len(res.Arcs), len(two.Network.Arcs))
	}
	sum := map[supply.NodeID]float64{}
	for i, a := range res.Arcs {
		if a.From != two.Network.Arcs[i].From || a.To != two.Network.Arcs[i].To {
			t.Errorf("arcs[%d] = %s→%s, want the network's %s→%s", i, a.From, a.To, two.Network.Arcs[i].From, two.Network.Arcs[i].To)
		}
		sum[a.From] += a.Shipped
	}
	for id, k := range res.Nodes {
		if math.Abs(sum[id]-k.Shipped) > 1e-9*max(1, k.Shipped) {
			t.Errorf("%s: arcs carry %v, node shipped %v", id, sum[id], k.Shipped)
		}
	}
}
