package supply_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/supply"
)

func randomScenario() supply.SimScenario {
	sc := chain()
	sc.Days = 365
	sc.Network.Nodes = append(sc.Network.Nodes, supply.Node{ID: "M2", Stage: "mine", Country: "AU", CapacityPerPeriod: 4})
	sc.Network.Arcs = append(sc.Network.Arcs, supply.Arc{From: "M2", To: "O", Ratio: 1, Material: "Dy oxide", LeadTimeDays: 30})
	sc.RandomShocks = []supply.RandomShock{{Name: "CN outage", Nodes: []supply.NodeID{"M"}, ProbPerDay: 0.01, DurationDays: 40, DurationSigma: 0.5}}
	sc.Controls = []supply.Control{{Name: "no18", Builtin: "CN-2025-18", Effective: "2025-06-01", Announced: "2025-06-01"}}
	return sc
}

func TestMonteCarloDeterministic(t *testing.T) {
	sc := randomScenario()
	runs := 200
	if testing.Short() {
		runs = 64
	}
	one, err := supply.MonteCarlo(t.Context(), &sc, supply.MCOptions{Runs: runs, Seed: 42, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	four, err := supply.MonteCarlo(t.Context(), &sc, supply.MCOptions{Runs: runs, Seed: 42, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(one, four); d != "" {
		t.Errorf("1 vs 4 workers differ (-1 +4):\n%s", d)
	}
	other, err := supply.MonteCarlo(t.Context(), &sc, supply.MCOptions{Runs: runs, Seed: 43, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Equal(one, other) {
		t.Errorf("seeds 42 and 43 gave identical results")
	}
	o := one.Nodes["O"]
	if o.PStockout == 0 || o.Lost.CVaR95 == nil || *o.Lost.CVaR95 < o.Lost.P95 {
		t.Errorf("O distribution looks wrong: %+v", o)
	}
}

// TestMonthlyConfidenceIntervals checks the intervals of the month means
// and of P(stockout) against the runs one by one: t_{0.975, n−1} s/√n of
// each month's lost demand over the runs.
func TestMonthlyConfidenceIntervals(t *testing.T) {
	sc := supply.SimScenario{Start: "2025-01-01", Days: 90,
		Network:      supply.Network{Nodes: []supply.Node{{ID: "S", CapacityPerPeriod: 1, DemandPerPeriod: 1, Inventory: 3}}},
		RandomShocks: []supply.RandomShock{{Name: "r", Nodes: []supply.NodeID{"S"}, ProbPerDay: 0.02, DurationDays: 6, DurationSigma: 0.5}},
	}
	const runs, seed = 30, 4
	mc, err := supply.MonteCarlo(t.Context(), &sc, supply.MCOptions{Runs: runs, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	nd := mc.Nodes["S"]
	const t29 = 2.0452296 // t_{0.975, 29}, to seven digits
	hits := 0.0
	for mo := range nd.Monthly {
		var lost []float64
		for r := range runs {
			res, err := supply.Run(t.Context(), &sc, rand.New(rand.NewPCG(seed, uint64(r))))
			if err != nil {
				t.Fatal(err)
			}
			lost = append(lost, res.Nodes["S"].Monthly[mo].Lost)
			if mo == 0 && res.Nodes["S"].FirstStockout != nil {
				hits++
			}
		}
		m, sd := meanSD(lost)
		got := nd.Monthly[mo]
		if math.Abs(got.Lost-m) > 1e-9 || !near(got.LostCI95, t29*sd/math.Sqrt(runs), 1e-6) {
			t.Errorf("%s: lost %v ± %v, want %v ± %v", got.Month, got.Lost, got.LostCI95, m, t29*sd/math.Sqrt(runs))
		}
	}
	p := hits / runs
	if want := t29 * math.Sqrt(p*(1-p)*runs/(runs-1)) / math.Sqrt(runs); !near(nd.PStockoutCI95, want, 1e-6) || nd.PStockout != p {
		t.Errorf("P(stockout) %v ± %v, want %v ± %v", nd.PStockout, nd.PStockoutCI95, p, want)
	}
}

// TestMonthlyFanQuantiles: a node whose outage starts in January in about
// half the runs has January's P10 fill rate low and P90 = 1 (exactly: the
// histogram has a slot for 1), and every month's P10/P50/P90 is the
// nearest-rank quantile of the runs one by one, to the histogram's bin.
func TestMonthlyFanQuantiles(t *testing.T) {
	sc := supply.SimScenario{Start: "2025-01-01", Days: 90,
		Network:      supply.Network{Nodes: []supply.Node{{ID: "S", CapacityPerPeriod: 1, DemandPerPeriod: 1}}},
		RandomShocks: []supply.RandomShock{{Name: "r", Nodes: []supply.NodeID{"S"}, ProbPerDay: 0.02, DurationDays: 20}},
	}
	const runs, seed = 60, 9
	mc, err := supply.MonteCarlo(t.Context(), &sc, supply.MCOptions{Runs: runs, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	nd := mc.Nodes["S"]
	if jan := nd.Monthly[0]; jan.FillRateP10 > 0.8 || jan.FillRateP90 != 1 || jan.FillRateP10 > jan.FillRateP50 || jan.FillRateP50 > jan.FillRateP90 {
		t.Errorf("January fill rate P10/P50/P90 = %v/%v/%v, want P10 low, P90 = 1", jan.FillRateP10, jan.FillRateP50, jan.FillRateP90)
	}
	bin := func(x float64) float64 { // the value the histogram reports for x
		switch {
		case x <= 0:
			return 0
		case x >= 1:
			return 1
		}
		return (math.Min(199, math.Floor(x*200)) + 0.5) / 200
	}
	for mo, got := range nd.Monthly {
		var fr []float64
		for r := range runs {
			res, err := supply.Run(t.Context(), &sc, rand.New(rand.NewPCG(seed, uint64(r))))
			if err != nil {
				t.Fatal(err)
			}
			fr = append(fr, res.Nodes["S"].Monthly[mo].FillRate)
		}
		slices.Sort(fr)
		q := func(p float64) float64 { return bin(fr[max(1, int(math.Ceil(p*runs)))-1]) }
		if got.FillRateP10 != q(0.1) || got.FillRateP50 != q(0.5) || got.FillRateP90 != q(0.9) {
			t.Errorf("%s: P10/P50/P90 %v/%v/%v, want %v/%v/%v", got.Month, got.FillRateP10, got.FillRateP50, got.FillRateP90, q(0.1), q(0.5), q(0.9))
		}
	}
}
