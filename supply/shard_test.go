package supply_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"testing"

	"lodestone/supply"
)

func exampleStudy(t testing.TB) *supply.SimScenario {
	t.Helper()
	b, err := os.ReadFile("../examples/supply/scenario-montecarlo.json")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := supply.DecodeScenario(b)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestShardsMergeToTheSameBits: a study cut into shards of any sizes
// (multiples of MCBlock), run in any order and merged, is MonteCarlo's
// result bit for bit, with and without money.
func TestShardsMergeToTheSameBits(t *testing.T) {
	for name, sc := range map[string]*supply.SimScenario{"example": exampleStudy(t), "random": func() *supply.SimScenario { s := randomScenario(); return &s }()} {
		for _, cuts := range [][]int{{0, 100}, {0, 64, 100}, {0, 32, 64, 96, 100}} {
			opts := supply.MCOptions{Runs: 100, Seed: 11, Workers: 2}
			want, err := supply.MonteCarlo(context.Background(), sc, opts)
			if err != nil {
				t.Fatal(err)
			}
			var shards []*supply.MCShard
			for i := len(cuts) - 1; i > 0; i-- { // backwards: arrival order does not matter
				sh, err := supply.MonteCarloShard(context.Background(), sc, supply.MCOptions{Runs: 100, Seed: 11, Workers: i%2 + 1}, cuts[i-1], cuts[i])
				if err != nil {
					t.Fatal(err)
				}
				shards = append(shards, sh)
			}
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(shards), func(i, j int) { shards[i], shards[j] = shards[j], shards[i] })
			got, err := supply.MergeMC(sc, opts, shards)
			if err != nil {
				t.Fatal(err)
			}
			wb, _ := json.Marshal(want)
			gb, _ := json.Marshal(got)
			if string(wb) != string(gb) {
				t.Errorf("%s cut at %v: merged shards differ from MonteCarlo", name, cuts)
			}
		}
	}
}

func TestShardBadInput(t *testing.T) {
	sc := exampleStudy(t)
	ctx := context.Background()
	for _, c := range [][3]int{{100, 10, 42}, {100, 0, 40}, {100, 32, 32}, {100, 96, 101}, {0, 0, 32}} {
		if _, err := supply.MonteCarloShard(ctx, sc, supply.MCOptions{Runs: c[0]}, c[1], c[2]); err == nil {
			t.Errorf("shard %v: no error", c)
		}
	}
	opts := supply.MCOptions{Runs: 100, Seed: 1}
	a, _ := supply.MonteCarloShard(ctx, sc, opts, 0, 64)
	b, _ := supply.MonteCarloShard(ctx, sc, opts, 64, 100)
	for name, shards := range map[string][]*supply.MCShard{"missing": {a}, "doubled": {a, a, b}, "none": nil} {
		if _, err := supply.MergeMC(sc, opts, shards); err == nil {
			t.Errorf("%s: merged", name)
		}
	}
	bad := *b
	bad.Fill = bad.Fill[1:]
	if _, err := supply.MergeMC(sc, opts, []*supply.MCShard{a, &bad}); err == nil {
		t.Error("a short shard merged")
	}
}
