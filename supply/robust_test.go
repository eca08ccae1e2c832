package supply_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"lodestone/supply"
)

// TestDenormalStockSplit reproduces the NaN of issue 10: both suppliers of
// a plant are down, one with no stock and one with 3.56e-307 left over from
// rounding; the order split divided by that sum (Inf × 0 = NaN) and every
// KPI downstream turned NaN, so --json failed. Quantities below Tolerance ×
// the largest quantity are now zero.
func TestDenormalStockSplit(t *testing.T) {
	sc := supply.SimScenario{Start: "2025-01-01", Days: 30, Network: supply.Network{
		Nodes: []supply.Node{
			{ID: "A", CapacityPerPeriod: 5, Inventory: 3.56e-307}, {ID: "B", CapacityPerPeriod: 5},
			{ID: "P", CapacityPerPeriod: 10, Inventory: 20, DemandPerPeriod: 10},
		},
		Arcs: []supply.Arc{{From: "A", To: "P", Ratio: 1}, {From: "B", To: "P", Ratio: 1}},
	},
		Shocks: []supply.Shock{{Node: "A", From: "2025-01-01", To: "2025-01-20"}, {Node: "B", From: "2025-01-01", To: "2025-01-20"}},
	}
	res, err := supply.Run(t.Context(), &sc, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(res); err != nil {
		t.Fatalf("result does not marshal: %v", err)
	}
	checkResult(t, "denormal", &sc.Network, res)
	if p := res.Nodes["P"]; p.FirstStockout == nil || p.Lost <= 0 {
		t.Errorf("P = %+v, want a stockout while both suppliers are down", p)
	}
}

// checkResult asserts that every KPI of a run is finite and in range and
// that every node's output balance closes: inventory_start + produced −
// shipped − served = inventory_end, up to rounding and the stock the
// tolerance sets to zero (below Tolerance × the network's largest quantity,
// at most once a day).
func checkResult(t *testing.T, name string, net *supply.Network, res *supply.Result) {
	t.Helper()
	for id, k := range res.Nodes {
		vals := []float64{k.FillRate, k.Requested, k.Lost, k.InventoryStart, k.Produced, k.Shipped, k.Served, k.InventoryEnd, k.StockUnitDays}
		for _, mo := range k.Monthly {
			vals = append(vals, mo.FillRate, mo.Lost, mo.InventoryEnd)
		}
		for _, v := range vals {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%s: node %s has a KPI that is not finite: %+v", name, id, k)
			}
		}
		if k.FillRate < 0 || k.FillRate > 1 || k.Lost < -1e-9 || k.InventoryEnd < 0 || k.Produced < 0 || k.Shipped < 0 || k.Served < 0 {
			t.Fatalf("%s: node %s has a KPI out of range: %+v", name, id, k)
		}
		scale := max(k.InventoryStart, k.Produced, k.Shipped+k.Served)
		tol := 1e-12*scale + float64(res.Days)*supply.Tolerance*netScale(net)
		if d := k.InventoryStart + k.Produced - k.Shipped - k.Served - k.InventoryEnd; math.Abs(d) > tol {
			t.Fatalf("%s: node %s: balance off by %g: %+v", name, id, d, k)
		}
	}
}

// randomNetwork draws a random acyclic network of n nodes: sources,
// intermediate nodes with one to three inputs (alternatives or a bill of
// materials), demand nodes, a stockpile now and then, quantities spread
// over six orders of magnitude (down to tiny ones, as rounding leaves), lead
// times of 0–9 days.
func randomNetwork(rng *rand.Rand, n int) supply.Network {
	var net supply.Network
	q := func() float64 {
		switch rng.IntN(8) {
		case 0:
			return 0
		case 1:
			return 1e-300 * rng.Float64()
		}
		return math.Pow(10, 3*rng.Float64()) * rng.Float64()
	}
	for i := range n {
		nd := supply.Node{ID: supply.NodeID(fmt.Sprintf("n%d", i)), CapacityPerPeriod: q(), Inventory: q() * 10}
		if i > n/2 && rng.IntN(2) == 0 {
			nd.DemandPerPeriod = q()
		}
		if i > 0 && rng.IntN(10) == 0 {
			nd.Stage = supply.StageStockpile
			nd.CapacityPerPeriod = 0
		}
		net.Nodes = append(net.Nodes, nd)
		if i == 0 || nd.Stage == supply.StageStockpile {
			continue
		}
		for k := range 1 + rng.IntN(3) {
			from := rng.IntN(i)
			a := supply.Arc{From: net.Nodes[from].ID, To: nd.ID, Ratio: 0.1 + 3*rng.Float64(), LeadTimeDays: rng.IntN(10)}
			if rng.IntN(3) == 0 {
				a.Material = fmt.Sprintf("m%d", k)
			}
			if rng.IntN(4) == 0 {
				a.InTransit = q()
			}
			net.Arcs = append(net.Arcs, a)
		}
	}
	return net
}

// randomShocks adds scheduled shocks of every kind (factors up to
// MaxFactor) and random outages to a scenario.
func randomShocks(rng *rand.Rand, sc *supply.SimScenario) {
	net := &sc.Network
	day := func() supply.Date { return supply.Date(fmt.Sprintf("2025-%02d-%02d", 1+rng.IntN(4), 1+rng.IntN(28))) }
	for range rng.IntN(6) {
		from, to := day(), day()
		if to < from {
			from, to = to, from
		}
		sh := supply.Shock{From: from, To: to, CapacityFactor: rng.Float64() * supply.MaxFactor * float64(rng.IntN(2))}
		switch k := rng.IntN(4); {
		case k == 0 || len(net.Arcs) == 0:
			sh.Node = net.Nodes[rng.IntN(len(net.Nodes))].ID
		case k == 1:
			a := net.Arcs[rng.IntN(len(net.Arcs))]
			sh.Arc = string(a.From) + "->" + string(a.To)
		case k == 2:
			a := net.Arcs[rng.IntN(len(net.Arcs))]
			sh.Arc, sh.Kind, sh.DelayDays = string(a.From)+"->"+string(a.To), supply.ShockPortDelay, rng.IntN(20)
		default:
			sh.Node, sh.Kind, sh.DemandFactor = net.Nodes[rng.IntN(len(net.Nodes))].ID, supply.ShockDemandSurge, rng.Float64()*supply.MaxFactor
		}
		sc.Shocks = append(sc.Shocks, sh)
	}
	if rng.IntN(2) == 0 {
		sc.RandomShocks = []supply.RandomShock{{Name: "r", Nodes: []supply.NodeID{net.Nodes[rng.IntN(len(net.Nodes))].ID, net.Nodes[rng.IntN(len(net.Nodes))].ID},
			ProbPerDay: 0.05 * rng.Float64(), DurationDays: 1 + 20*rng.Float64(), DurationSigma: rng.Float64()}}
	}
}

// TestRandomNetworksStayFinite runs thousands of random networks under
// random shocks and checks that every KPI is finite and every balance
// closes (issue 10, scope 7).
func TestRandomNetworksStayFinite(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 7))
	runs := 2000
	if testing.Short() || raceEnabled {
		runs = 200
	}
	for i := range runs {
		sc := supply.SimScenario{Start: "2025-01-01", Days: 120, Network: randomNetwork(rng, 2+rng.IntN(12))}
		if rng.IntN(3) == 0 {
			sc.InitialState = supply.InitialAtRest
		}
		randomShocks(rng, &sc)
		if err := sc.Validate(); err != nil {
			t.Fatalf("case %d: generated an invalid scenario: %v", i, err)
		}
		res, err := supply.Run(t.Context(), &sc, rand.New(rand.NewPCG(uint64(i), 1)))
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, fmt.Sprintf("case %d", i), &sc.Network, res)
	}
}

// netScale is the largest quantity of a network (what Tolerance is a share
// of).
func netScale(net *supply.Network) float64 {
	s := 0.0
	for _, nd := range net.Nodes {
		s = max(s, nd.CapacityPerPeriod, nd.Inventory, nd.DemandPerPeriod)
	}
	for _, a := range net.Arcs {
		s = max(s, a.InTransit)
	}
	return max(s, 1)
}
