package supply_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/supply"
)

// moneyNode is one plant S making its own demand of 10 t a day (capacity
// 10, 30 t on hand), down for the first ten days, priced as "magnet".
func moneyNode() supply.SimScenario {
	return supply.SimScenario{
		Start: "2025-01-01", Days: 20,
		Network: supply.Network{Nodes: []supply.Node{{ID: "S", Country: "JP", CapacityPerPeriod: 10, Inventory: 30, DemandPerPeriod: 10}}},
		Shocks:  []supply.Shock{{Node: "S", From: "2025-01-01", To: "2025-01-10"}},
		Prices: []supply.Price{
			// The latest price on or before the start in S's country wins
			// over a later one and over the benchmark for any country.
			{Material: "magnet", Country: "JP", Price: 50, Currency: "USD", Unit: "kg", Date: "2024-12-01", Source: "test"},
			{Material: "magnet", Country: "JP", Price: 40, Currency: "USD", Unit: "kg", Date: "2024-06-01", Source: "test"},
			{Material: "magnet", Country: "JP", Price: 90, Currency: "USD", Unit: "kg", Date: "2025-06-01", Source: "test"},
			{Material: "magnet", Price: 70, Currency: "USD", Unit: "kg", Date: "2024-12-31", Source: "test"},
		},
		Costs:  &supply.Costs{HoldingRatePerYear: 0.365, Nodes: map[supply.NodeID]supply.NodeCosts{"S": {Material: "magnet", MarginPerUnit: 20000}}},
		Builds: []supply.Build{{Node: "S", Online: "2025-01-16", AddCapacityPerPeriod: 5, Capex: 1e6, OpexPerDay: 100}},
	}
}

// TestMoneyByHand checks the money KPIs of moneyNode against a hand
// calculation. S serves 10 a day from its 30 t on days 0–2 (end-of-day
// stock 20, 10, 0) and loses 10 a day on days 3–9: 70 t lost. From day 10
// it makes 10 a day; the build adds 5 a day from day 15, so the stock
// grows by 5 a day on days 15–19 (5, 10, 15, 20, 25): 30 + 75 = 105
// t-days held.
//
//	price     50 USD/kg × 1000 kg/t             = 50,000 USD/t
//	revenue at risk   70 t × 50,000             = 3,500,000
//	lost demand cost  70 t × 20,000 (margin)     = 1,400,000
//	holding   0.365/yr × 50,000 / 365 = 50 USD/t-day × 105 = 5,250
//	mitigation  capex 1,000,000 + opex 100 × 5 days (15–19) = 1,000,500
//	total  1,400,000 + 5,250 + 1,000,500        = 2,405,750
func TestMoneyByHand(t *testing.T) {
	sc := moneyNode()
	res, err := supply.Run(t.Context(), &sc, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	k := res.Nodes["S"]
	if k.Lost != 70 || k.StockUnitDays != 105 {
		t.Fatalf("S lost %g, held %g t-days; want 70 and 105 (the hand calculation's premises)", k.Lost, k.StockUnitDays)
	}
	want := supply.NodeCost{PricePerUnit: 50000, RevenueAtRisk: 3.5e6, LostDemandCost: 1.4e6, HoldingCost: 5250, MitigationCost: 1000500, Total: 2405750}
	if d := cmp.Diff(want, *k.Cost, cmpApprox); d != "" {
		t.Errorf("S cost (-want +got):\n%s", d)
	}
	wantRun := supply.RunCost{Currency: "USD", RevenueAtRisk: 3.5e6, LostDemandCost: 1.4e6, HoldingCost: 5250, MitigationCost: 1000500, Total: 2405750}
	if d := cmp.Diff(wantRun, *res.Cost, cmpApprox); d != "" {
		t.Errorf("run cost (-want +got):\n%s", d)
	}
}

var cmpApprox = cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b)) })

// TestStockpileHoldingIsMitigation checks that a stockpile's holding cost
// counts as mitigation, not as holding, and that the margin defaults to
// loss_per_unit, then to the price.
func TestStockpileHoldingIsMitigation(t *testing.T) {
	sc := supply.SimScenario{Start: "2025-01-01", Days: 10,
		Network: supply.Network{Nodes: []supply.Node{
			{ID: "SP", Stage: supply.StageStockpile, Inventory: 100},
			{ID: "O", CapacityPerPeriod: 10, Inventory: 0, DemandPerPeriod: 10, LossPerUnit: 7},
		}, Arcs: []supply.Arc{{From: "SP", To: "O", Ratio: 1}}},
		Costs: &supply.Costs{Currency: "EUR", Nodes: map[supply.NodeID]supply.NodeCosts{
			"SP": {HoldingCostPerUnitDay: 0.5}, "O": {PricePerUnit: 100},
		}},
	}
	res, err := supply.Run(t.Context(), &sc, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	sp, o := res.Nodes["SP"], res.Nodes["O"]
	if sp.Cost.HoldingCost != 0 || math.Abs(sp.Cost.MitigationCost-0.5*sp.StockUnitDays) > 1e-9 || sp.StockUnitDays == 0 {
		t.Errorf("stockpile cost %+v over %g unit-days, want holding 0 and mitigation 0.5 × unit-days", sp.Cost, sp.StockUnitDays)
	}
	if o.Lost == 0 || math.Abs(o.Cost.LostDemandCost-7*o.Lost) > 1e-9 || math.Abs(o.Cost.RevenueAtRisk-100*o.Lost) > 1e-9 || res.Cost.Currency != "EUR" {
		t.Errorf("O lost %g, cost %+v (%s), want lost × 7 and revenue at risk lost × 100 in EUR", o.Lost, o.Cost, res.Cost.Currency)
	}
}

// TestCompareCommonRandomNumbers checks the net benefit: with the same
// random outages in both studies (common random numbers), each run's
// difference is the difference of the two runs alone, so the mean equals
// the mean of those differences; a deterministic pair has a CI of 0.
func TestCompareCommonRandomNumbers(t *testing.T) {
	base := moneyNode()
	base.Builds = nil
	base.Shocks = nil
	base.RandomShocks = []supply.RandomShock{{Name: "r", Nodes: []supply.NodeID{"S"}, ProbPerDay: 0.1, DurationDays: 4, DurationSigma: 0.5}}
	mit := base
	mit.Builds = []supply.Build{{Node: "S", Online: "2025-01-01", AddCapacityPerPeriod: 5, Capex: 1000}}
	mit.Network.Nodes = []supply.Node{{ID: "S", Country: "JP", CapacityPerPeriod: 10, Inventory: 60, DemandPerPeriod: 10}}
	const runs = 64
	b, rb, rm, err := supply.Compare(t.Context(), &base, &mit, supply.MCOptions{Runs: runs, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var diffs []float64
	for r := range runs {
		x, err := supply.Run(t.Context(), &base, rand.New(rand.NewPCG(3, uint64(r))))
		if err != nil {
			t.Fatal(err)
		}
		y, err := supply.Run(t.Context(), &mit, rand.New(rand.NewPCG(3, uint64(r))))
		if err != nil {
			t.Fatal(err)
		}
		diffs = append(diffs, x.Cost.Total-y.Cost.Total)
	}
	m, sd := meanSD(diffs)
	if !near(b.NetBenefit.Mean, m, 1e-9) || !near(b.NetBenefit.CI95, 1.9983405*sd/math.Sqrt(runs), 1e-5) {
		t.Errorf("net benefit %+v, want mean %v and ci95 t(63)·%v/√64", b.NetBenefit, m, sd)
	}
	if !near(b.NetBenefit.Mean, rb.Cost.Total.Mean-rm.Cost.Total.Mean, 1e-9) || b.MitigationCost.Mean != 1000 {
		t.Errorf("net benefit %v vs studies %v − %v; mitigation %v, want 1000", b.NetBenefit.Mean, rb.Cost.Total.Mean, rm.Cost.Total.Mean, b.MitigationCost.Mean)
	}
	// Without money, a comparison is refused.
	base.Prices, base.Costs = nil, nil
	_, _, _, err = supply.Compare(t.Context(), &base, &mit, supply.MCOptions{Runs: 2})
	var fe *supply.FieldError
	if err == nil || errors.As(err, &fe) {
		t.Errorf("Compare without money: %v, want an error that is not a field error", err)
	}
}

// TestPricesFile decodes the sourced prices of world/data/prices.json (the
// shape `prices` takes) and checks that they pass the scenario's checks.
func TestPricesFile(t *testing.T) {
	b, err := os.ReadFile("../world/data/prices.json")
	if os.IsNotExist(err) {
		t.Skip("no world/data/prices.json")
	}
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Prices []supply.Price `json:"prices"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var usd []supply.Price
	for _, p := range doc.Prices {
		if p.Currency == "USD" {
			usd = append(usd, p)
		}
	}
	if len(usd) == 0 {
		t.Skip("no USD prices")
	}
	sc := moneyNode()
	sc.Prices = usd
	sc.Costs.Nodes = map[supply.NodeID]supply.NodeCosts{"S": {Material: usd[0].Material}}
	sc.Network.Nodes[0].Country = usd[0].Country
	res, err := supply.Run(t.Context(), &sc, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatalf("prices of world/data/prices.json: %v", err)
	}
	if c := res.Nodes["S"].Cost; c.PricePerUnit <= 0 {
		t.Errorf("S priced as %s in %s: %+v", usd[0].Material, usd[0].Country, c)
	}
}
