package supply_test

import (
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
