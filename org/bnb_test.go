package org_test

import (
	"context"
	"slices"
	"testing"

	"lodestone/org"
)

// TestBranchAndBoundEqualsExhaustive: on the small instance, for two seeds,
// several budgets and both objectives, branch and bound returns the
// portfolio that evaluating every subset within the budget on the same
// runs finds best, its frontier is monotone, nothing over the budget is
// chosen, and it evaluates no more portfolios than there are subsets
// within the budget.
func TestBranchAndBoundEqualsExhaustive(t *testing.T) {
	ctx := context.Background()
	for _, seed := range []uint64{7, 19} {
		for _, obj := range []string{org.ObjectiveExpectedLost, org.ObjectiveCVaR95} {
			spec := loadSpec(t, "invest_small.json")
			spec.Objective, spec.Workers, spec.Runs, spec.Seed = obj, 2, 40, seed
			// Every subset once, on the spec's runs.
			var all []org.Portfolio
			n := len(spec.Candidates)
			for mask := range 1 << n {
				var set []string
				for i, c := range spec.Candidates {
					if mask&(1<<i) != 0 {
						set = append(set, c.ID)
					}
				}
				pf, err := org.Evaluate(ctx, spec, set)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, pf)
			}
			for _, budget := range []float64{0, 300, 450, 600, 900, 6000} {
				var best *org.Portfolio
				within := 0
				for k := range all {
					pf := &all[k]
					if pf.Cost > budget {
						continue
					}
					within++
					if best == nil || pf.Objective < best.Objective || pf.Objective == best.Objective && pf.Cost < best.Cost {
						best = pf
					}
				}
				s := *spec
				s.Budget, s.Search = budget, org.SearchBranchAndBound
				bb, err := org.Invest(ctx, &s)
				if err != nil {
					t.Fatal(err)
				}
				if bb.Method != org.SearchBranchAndBound {
					t.Fatalf("method %q", bb.Method)
				}
				if !slices.Equal(bb.Best.Candidates, best.Candidates) || bb.Best.Objective != best.Objective || bb.Best.Cost != best.Cost {
					t.Errorf("seed %d, %s, budget %v: branch and bound %+v, exhaustive %+v", seed, obj, budget, bb.Best, *best)
				}
				if bb.Best.Cost > budget || bb.Evaluated > within {
					t.Errorf("seed %d, %s, budget %v: best %+v; evaluated %d of %d subsets within the budget", seed, obj, budget, bb.Best, bb.Evaluated, within)
				}
				if budget == 600 {
					checkFrontier(t, bb, budget)
				}
				for i := 1; i < len(bb.Frontier); i++ {
					if bb.Frontier[i].Cost < bb.Frontier[i-1].Cost || bb.Frontier[i].Objective >= bb.Frontier[i-1].Objective {
						t.Errorf("seed %d, %s, budget %v: frontier not monotone at %d", seed, obj, budget, i)
					}
				}
				t.Logf("seed %d, %s budget %v: best %v (%v), evaluated %d of %d", seed, obj, budget, bb.Best.Candidates, bb.Best.Objective, bb.Evaluated, within)
			}
		}
	}
}

// TestBranchAndBoundLarge: on the 12 candidates of the benchmark (4 runs)
// branch and bound returns exhaustive search's best and prunes.
func TestBranchAndBoundLarge(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("2^12 portfolios of the default world (short, or the race detector)")
	}
	var res [2]*org.InvestResult
	for k, search := range []string{"exhaustive", org.SearchBranchAndBound} {
		spec := investBench(t, 4)
		spec.Search, spec.Workers = search, 2
		r, err := org.Invest(t.Context(), spec)
		if err != nil {
			t.Fatal(err)
		}
		res[k] = r
	}
	ex, bb := res[0], res[1]
	if !slices.Equal(ex.Best.Candidates, bb.Best.Candidates) || ex.Best.Objective != bb.Best.Objective {
		t.Errorf("branch and bound %+v, exhaustive %+v", bb.Best, ex.Best)
	}
	if bb.Evaluated >= ex.Evaluated {
		t.Errorf("branch and bound evaluated %d, exhaustive %d: nothing pruned", bb.Evaluated, ex.Evaluated)
	}
	t.Logf("best %v (%v): branch and bound evaluated %d, exhaustive %d", bb.Best.Candidates, bb.Best.Objective, bb.Evaluated, ex.Evaluated)
}
