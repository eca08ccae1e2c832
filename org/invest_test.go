package org_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"lodestone/org"
)

func loadSpec(t testing.TB, name string) *org.InvestSpec {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := org.DecodeInvestSpec(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestInvestExhaustive: the search returns the portfolio that evaluating
// every subset within the budget on the same runs finds best; the frontier
// is monotone; the candidate above the budget is never chosen.
func TestInvestExhaustive(t *testing.T) {
	ctx := context.Background()
	for _, obj := range []string{org.ObjectiveExpectedLost, org.ObjectiveCVaR95} {
		spec := loadSpec(t, "invest_small.json")
		spec.Objective, spec.Workers, spec.Runs = obj, 2, 60
		res, err := org.Invest(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{}
		for _, c := range spec.Candidates {
			ids = append(ids, c.ID)
		}
		var best *org.Portfolio
		for mask := range 1 << len(ids) {
			var set []string
			for i, id := range ids {
				if mask&(1<<i) != 0 {
					set = append(set, id)
				}
			}
			pf, err := org.Evaluate(ctx, spec, set)
			if err != nil {
				t.Fatal(err)
			}
			if pf.Cost > spec.Budget {
				continue
			}
			if best == nil || pf.Objective < best.Objective || pf.Objective == best.Objective && pf.Cost < best.Cost {
				best = &pf
			}
		}
		if !slices.Equal(res.Best.Candidates, best.Candidates) || res.Best.Objective != best.Objective {
			t.Errorf("%s: search chose %+v, exhaustive evaluation %+v", obj, res.Best, *best)
		}
		if res.Best.Objective >= res.Baseline.Objective {
			t.Errorf("%s: best %v does not improve on no investment %v", obj, res.Best.Objective, res.Baseline.Objective)
		}
		checkFrontier(t, res, spec.Budget)
		t.Logf("%s: best %+v baseline %v, %d evaluated, frontier %d", obj, res.Best, res.Baseline.Objective, res.Evaluated, len(res.Frontier))
	}
}

func checkFrontier(t *testing.T, res *org.InvestResult, budget float64) {
	t.Helper()
	for i, p := range res.Frontier {
		if slices.Contains(p.Candidates, "mega") || p.Cost > budget {
			t.Errorf("frontier[%d] %+v is over the budget", i, p)
		}
		if p.CI[0] > p.Objective || p.CI[1] < p.Objective {
			t.Errorf("frontier[%d]: ci %v does not hold %v", i, p.CI, p.Objective)
		}
		if i > 0 && (p.Cost < res.Frontier[i-1].Cost || p.Objective >= res.Frontier[i-1].Objective) {
			t.Errorf("frontier not monotone at %d: %+v after %+v", i, p, res.Frontier[i-1])
		}
	}
	if last := res.Frontier[len(res.Frontier)-1]; !slices.Equal(last.Candidates, res.Best.Candidates) {
		t.Errorf("the frontier ends at %+v, not the best %+v", last, res.Best)
	}
}

// TestInvestGreedy: the greedy search stays within the budget, its
// frontier is monotone and it does no worse than the best single candidate.
// Its bound is no better than the best portfolio exhaustive search finds
// on the same runs, and its gap is the distance from its best to the
// bound.
func TestInvestGreedy(t *testing.T) {
	for _, budget := range []float64{250, 400, 600} {
		spec := loadSpec(t, "invest_small.json")
		spec.Search, spec.Workers, spec.Runs, spec.Budget = "greedy", 2, 60, budget
		res, err := org.Invest(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		if res.Method != "greedy" {
			t.Fatalf("method %q", res.Method)
		}
		ex := loadSpec(t, "invest_small.json")
		ex.Search, ex.Workers, ex.Runs, ex.Budget = "exhaustive", 2, 60, budget
		opt, err := org.Invest(context.Background(), ex)
		if err != nil {
			t.Fatal(err)
		}
		b := res.Bound
		if b == nil || b.Assumes != org.AssumesMonotoneDiminishing || b.Objective > opt.Best.Objective || b.Objective < 0 ||
			math.Abs(b.Gap-(res.Best.Objective-b.Objective)) > 1e-9*res.Best.Objective || b.Gap < res.Best.Objective-opt.Best.Objective-1e-9 {
			t.Errorf("budget %v: greedy best %v, bound %+v; exhaustive best %v", budget, res.Best.Objective, b, opt.Best.Objective)
		}
		if opt.Bound == nil || opt.Bound.Gap != 0 || opt.Bound.Objective != opt.Best.Objective || opt.Bound.Assumes != org.AssumesNothing {
			t.Errorf("budget %v: exhaustive bound %+v", budget, opt.Bound)
		}
		t.Logf("budget %v: greedy %v, bound %v (gap %v), exhaustive %v", budget, res.Best.Objective, b.Objective, b.Gap, opt.Best.Objective)
	}
	spec := loadSpec(t, "invest_small.json")
	spec.Search, spec.Workers, spec.Runs = "greedy", 2, 60
	res, err := org.Invest(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	checkFrontier(t, res, spec.Budget)
	for _, c := range spec.Candidates {
		pf, err := org.Evaluate(context.Background(), spec, []string{c.ID})
		if err != nil {
			t.Fatal(err)
		}
		if pf.Cost <= spec.Budget && pf.Objective < res.Best.Objective {
			t.Errorf("greedy best %+v is worse than %s alone (%v)", res.Best, c.ID, pf.Objective)
		}
	}
}

// TestInvestDeterministic: the same spec gives the same bits whatever the
// number of workers (run r always uses the stream (seed, r)).
func TestInvestDeterministic(t *testing.T) {
	a := loadSpec(t, "invest_small.json")
	a.Workers, a.Runs = 1, 50
	b := loadSpec(t, "invest_small.json")
	b.Workers, b.Runs = 3, 50
	ids := []string{"lane-S2", "stock-OEM"}
	ra, err := org.Evaluate(context.Background(), a, ids)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := org.Evaluate(context.Background(), b, ids)
	if err != nil {
		t.Fatal(err)
	}
	if ra.Objective != rb.Objective || ra.CI != rb.CI {
		t.Errorf("workers 1: %+v; workers 3: %+v", ra, rb)
	}
}

func TestInvestBadInput(t *testing.T) {
	b, err := os.ReadFile("testdata/invest_small.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ old, new, field string }{
		{`"cost": 300, `, ``, "candidates[0].cost"},
		{`"cost": 300`, `"cost": -1`, "candidates[0].cost"},
		{`"node": "OEM", "size"`, `"node": "X", "size"`, "candidates[1].node"},
		{`"arc": "S2->OEM"`, `"arc": "S1->OEM"`, "candidates[0].arc"},
		{`"kind": "substitution"`, `"kind": "prayer"`, "candidates[3].kind"},
		{`"id": "mega"`, `"id": "thrift"`, "candidates[4].id"},
		{`"runs": 200`, `"runs": 0`, "runs"},
		{`"budget": 600`, `"budget": -5`, "budget"},
		{`"seed": 7`, `"seed": 7, "objective": "vibes"`, "objective"},
		{`"days": 180`, `"days": -1`, "scenario.days"},
		{`"seed": 7`, `"seed": 7, "colour": 1`, "spec"},
	}
	for _, tc := range tests {
		doc := strings.Replace(string(b), tc.old, tc.new, 1)
		if doc == string(b) {
			t.Fatalf("%q not in the test file", tc.old)
		}
		_, err := org.DecodeInvestSpec([]byte(doc))
		var fe *org.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: error %v, want one naming %s", tc.new, err, tc.field)
		}
	}
}

func FuzzDecodeInvestSpec(f *testing.F) {
	b, err := os.ReadFile("testdata/invest_small.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"scenario": {}, "candidates": [{"id": "a"}]}`))
	// The same spec over two weighted scenarios, maximising the time to
	// survive.
	var spec map[string]json.RawMessage
	if err := json.Unmarshal(b, &spec); err != nil {
		f.Fatal(err)
	}
	mix, err := json.Marshal([]map[string]any{{"name": "a", "weight": 3, "scenario": spec["scenario"]}, {"name": "b", "scenario": spec["scenario"]}})
	if err != nil {
		f.Fatal(err)
	}
	delete(spec, "scenario")
	spec["scenarios"], spec["objective"] = mix, json.RawMessage(`"time_to_survive"`)
	if b, err = json.Marshal(spec); err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := org.DecodeInvestSpec(data)
		if err != nil {
			return
		}
		if s.Runs <= 0 || s.Budget < 0 {
			t.Fatalf("accepted runs %d budget %v", s.Runs, s.Budget)
		}
	})
}
