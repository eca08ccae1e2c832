package worker

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"testing"

	"lodestone/supply"
)

// TestRunBytes: the bound of a run's result is above its JSON, for the
// example scenarios (one with money) from a day to a century.
func TestRunBytes(t *testing.T) {
	for _, f := range []string{"scenario-montecarlo.json", "scenario.json"} {
		b, err := os.ReadFile("../examples/supply/" + f)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := supply.DecodeScenario(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, days := range []int{1, 27, 365, 3650, 36500} {
			sc.Days = days
			r, err := supply.Run(context.Background(), sc, rand.New(rand.NewPCG(1, 0)))
			if err != nil {
				t.Fatal(err)
			}
			j, _ := json.Marshal(r)
			if bound := runBytes(sc); bound < len(j) {
				t.Errorf("%s, %d days: bound %d < %d bytes", f, days, bound, len(j))
			} else {
				t.Logf("%s, %d days: bound %d for %d bytes", f, days, bound, len(j))
			}
		}
	}
}
