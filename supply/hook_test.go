package supply_test

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"

	"lodestone/supply"
)

// activator activates arc a on day on.
type activator struct{ a, on int }

func (c activator) Decide(d supply.Day) {
	if d.Index() == c.on {
		d.ActivateArc(c.a, d.Index())
	}
}

func standbyScenario() *supply.SimScenario {
	return &supply.SimScenario{Start: "2026-01-01", Days: 40, Network: supply.Network{
		Nodes: []supply.Node{
			{ID: "S1", CapacityPerPeriod: 20},
			{ID: "S2", CapacityPerPeriod: 20},
			{ID: "OEM", CapacityPerPeriod: 20, Inventory: 50, DemandPerPeriod: 10},
		},
		Arcs: []supply.Arc{
			{From: "S1", To: "OEM", Ratio: 1, LeadTimeDays: 2},
			{From: "S2", To: "OEM", Ratio: 1, LeadTimeDays: 2, Standby: true},
		},
	}, Shocks: []supply.Shock{{Node: "S1", From: "2026-01-01", To: "2026-12-31"}}}
}

// TestStandbyArc: a standby arc carries nothing until a Controller
// activates it; a Sim without a controller gives Run's bits.
func TestStandbyArc(t *testing.T) {
	s := standbyScenario()
	ctx := context.Background()
	want, err := supply.Run(ctx, s, rand.New(rand.NewPCG(1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := supply.NewSim(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sim.Run(ctx, rand.New(rand.NewPCG(1, 0)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("Sim.Run without a controller differs from Run")
	}
	// Stock 50 lasts days 0–4; nothing ever arrives: 35 days × 10 lost.
	if got.Nodes["S2"].Shipped != 0 || got.Nodes["OEM"].Lost != 350 {
		t.Errorf("standby arc shipped %v, OEM lost %v; want 0 and 350", got.Nodes["S2"].Shipped, got.Nodes["OEM"].Lost)
	}
	// Activated on day 0: ordered day 0, shipped day 1, arrives day 3.
	got, err = sim.Run(ctx, rand.New(rand.NewPCG(1, 0)), activator{a: 1, on: 0})
	if err != nil {
		t.Fatal(err)
	}
	if got.Nodes["OEM"].Lost != 0 || got.Nodes["S2"].Shipped == 0 {
		t.Errorf("activated: OEM lost %v, S2 shipped %v", got.Nodes["OEM"].Lost, got.Nodes["S2"].Shipped)
	}
	lost, err := sim.LostOnly(ctx, rand.New(rand.NewPCG(1, 0)), activator{a: 1, on: 10})
	if err != nil {
		t.Fatal(err)
	}
	// Activated on day 10: arrives day 13; days 5–12 lost.
	if lost != 80 {
		t.Errorf("activated on day 10: lost %v, want 80", lost)
	}
}
