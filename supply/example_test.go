package supply_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"lodestone/supply"
)

func ExampleStress() {
	net := &supply.Network{
		Nodes: []supply.Node{
			{ID: "mine", CapacityPerPeriod: 10},
			{ID: "oem", CapacityPerPeriod: 10, Inventory: 20, DemandPerPeriod: 10, LossPerUnit: 5},
		},
		Arcs:      []supply.Arc{{From: "mine", To: "oem", Ratio: 1}},
		Scenarios: []supply.Scenario{{Name: "mine down", Disrupted: []supply.NodeID{"mine"}, TTRPeriods: 5}},
	}
	res, err := supply.Stress(context.Background(), net, nil)
	if err != nil {
		panic(err)
	}
	r := res[0]
	fmt.Printf("%s: lost %g (value %g), TTS %g, shortage %g, exposed %v\n", r.Name, r.LostUnits, r.LossValue, r.TTS, r.ShortagePeriods, r.Exposed)
	// Output:
	// mine down: lost 30 (value 150), TTS 2, shortage 3, exposed true
}

func ExampleStrategicStock() {
	net := &supply.Network{
		Nodes: []supply.Node{
			{ID: "mine", CapacityPerPeriod: 10},
			{ID: "oem", CapacityPerPeriod: 10, Inventory: 20, DemandPerPeriod: 10},
		},
		Arcs:      []supply.Arc{{From: "mine", To: "oem", Ratio: 1}},
		Scenarios: []supply.Scenario{{Name: "mine down", Disrupted: []supply.NodeID{"mine"}, TTRPeriods: 5}},
	}
	plan, err := supply.StrategicStock(net, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(plan.Extra)
	// Output:
	// map[oem:30]
}

func ExampleEOQ() {
	q, cost, _ := supply.EOQ(8, 0.225, 1300)
	fmt.Printf("Q* = %.4f, cost %.4f\n", q, cost)
	// Output:
	// Q* = 304.0468, cost 68.4105
}

func ExampleRun() {
	sc := &supply.SimScenario{
		Start: "2025-01-01",
		Days:  60,
		Network: supply.Network{
			Nodes: []supply.Node{
				// The mine has spare capacity to refill after an outage.
				{ID: "mine", Country: "CN", CapacityPerPeriod: 20},
				// 50 magnets on hand and nothing else: the simulation starts
				// from exactly the declared state.
				{ID: "oem", Country: "US", CapacityPerPeriod: 10, Inventory: 50, DemandPerPeriod: 10},
			},
			// One day's flow on its way, as at rest.
			Arcs: []supply.Arc{{From: "mine", To: "oem", Ratio: 1, LeadTimeDays: 1, InTransit: 10}},
		},
		Shocks: []supply.Shock{{Node: "mine", From: "2025-01-11", To: "2025-02-09"}},
	}
	res, err := supply.Run(context.Background(), sc, rand.New(rand.NewPCG(1, 0)))
	if err != nil {
		panic(err)
	}
	o := res.Nodes["oem"]
	fmt.Printf("first stockout %s, %d stockout days, fill rate %.3f\n", *o.FirstStockout, o.StockoutDays, o.FillRate)
	// Output:
	// first stockout 2025-01-17, 25 stockout days, fill rate 0.583
}

func ExampleMonteCarlo() {
	sc := &supply.SimScenario{
		Start: "2025-01-01",
		Days:  365,
		Network: supply.Network{
			Nodes: []supply.Node{
				// The mine has spare capacity to refill after an outage.
				{ID: "mine", Country: "CN", CapacityPerPeriod: 20},
				// 50 magnets on hand and nothing else: the simulation starts
				// from exactly the declared state.
				{ID: "oem", Country: "US", CapacityPerPeriod: 10, Inventory: 50, DemandPerPeriod: 10},
			},
			// One day's flow on its way, as at rest.
			Arcs: []supply.Arc{{From: "mine", To: "oem", Ratio: 1, LeadTimeDays: 1, InTransit: 10}},
		},
		RandomShocks: []supply.RandomShock{{Name: "outage", Nodes: []supply.NodeID{"mine"}, ProbPerDay: 0.005, DurationDays: 30}},
	}
	res, err := supply.MonteCarlo(context.Background(), sc, supply.MCOptions{Runs: 200, Seed: 7})
	if err != nil {
		panic(err)
	}
	o := res.Nodes["oem"]
	fmt.Printf("P(stockout) %.2f, fill rate mean %.3f\n", o.PStockout, o.FillRate.Mean)
	// Output:
	// P(stockout) 0.84, fill rate mean 0.897
}
