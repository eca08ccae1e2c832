package org_test

import (
	"context"
	"slices"
	"testing"

	"lodestone/org"
)

// TestBranchAndBoundEqualsExhaustive: on the small instance, for several
// budgets and both objectives, branch and bound returns the portfolio
// exhaustive search returns on the same runs, its frontier is monotone,
// nothing over the budget is chosen, and it evaluates no more portfolios
// than exhaustive search (plus the singletons it starts from).
func TestBranchAndBoundEqualsExhaustive(t *testing.T) {
	ctx := context.Background()
	for _, seed := range []uint64{7, 19} {
		for _, obj := range []string{org.ObjectiveExpectedLost, org.ObjectiveCVaR95} {
			for _, budget := range []float64{0, 120, 300, 450, 600, 900, 6000} {
				var res [2]*org.InvestResult
				for k, search := range []string{"exhaustive", org.SearchBranchAndBound} {
					spec := loadSpec(t, "invest_small.json")
					spec.Objective, spec.Workers, spec.Runs, spec.Budget, spec.Search, spec.Seed = obj, 2, 60, budget, search, seed
					r, err := org.Invest(ctx, spec)
					if err != nil {
						t.Fatal(err)
					}
					if r.Method != search {
						t.Fatalf("method %q, want %q", r.Method, search)
					}
					res[k] = r
				}
				ex, bb := res[0], res[1]
				if !slices.Equal(ex.Best.Candidates, bb.Best.Candidates) || ex.Best.Objective != bb.Best.Objective || ex.Best.Cost != bb.Best.Cost {
					t.Errorf("%s, budget %v: branch and bound %+v, exhaustive %+v", obj, budget, bb.Best, ex.Best)
				}
				if bb.Best.Cost > budget || bb.Evaluated > ex.Evaluated {
					t.Errorf("%s, budget %v: best %+v; evaluated %d (exhaustive %d)", obj, budget, bb.Best, bb.Evaluated, ex.Evaluated)
				}
				if budget == 600 {
					checkFrontier(t, bb, budget)
				}
				for i := 1; i < len(bb.Frontier); i++ {
					if bb.Frontier[i].Cost < bb.Frontier[i-1].Cost || bb.Frontier[i].Objective >= bb.Frontier[i-1].Objective {
						t.Errorf("%s, budget %v: frontier not monotone at %d", obj, budget, i)
					}
				}
				t.Logf("seed %d, %s budget %v: best %v (%v), evaluated %d of exhaustive's %d", seed, obj, budget, bb.Best.Candidates, bb.Best.Objective, bb.Evaluated, ex.Evaluated)
			}
		}
	}
}

// TestBranchAndBoundLarge: on the 12 candidates of the benchmark (4 runs)
// branch and bound returns exhaustive search's best and prunes.
func TestBranchAndBoundLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("2^12 portfolios of the default world")
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
