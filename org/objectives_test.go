package org_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lodestone/org"
)

// withCosts returns the small investment spec with a margin of 250 per
// unit of the OEM's lost demand (invented, for the test).
func withCosts(t *testing.T) *org.InvestSpec {
	t.Helper()
	s := loadSpec(t, "invest_small.json")
	var sc map[string]any
	if err := json.Unmarshal(s.Scenario, &sc); err != nil {
		t.Fatal(err)
	}
	sc["costs"] = map[string]any{"nodes": map[string]any{"OEM": map[string]any{"margin_per_unit": 250}}}
	b, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	s.Scenario = b
	return s
}

// TestExpectedLostCost: with a margin of 250 per unit lost (and no other
// node with external demand) the cost of lost demand of every run is 250
// times its lost demand, so every portfolio's expected_lost_cost is 250
// times its expected_lost and the search chooses the same portfolio; a
// scenario without money is refused naming the objective.
func TestExpectedLostCost(t *testing.T) {
	ctx := context.Background()
	lost := withCosts(t)
	lost.Runs, lost.Workers = 60, 2
	money := withCosts(t)
	money.Runs, money.Workers, money.Objective = 60, 2, org.ObjectiveExpectedLostCost
	rl, err := org.Invest(ctx, lost)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := org.Invest(ctx, money)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rm.Best.Candidates, rl.Best.Candidates) {
		t.Errorf("best by cost %v, by lost demand %v", rm.Best.Candidates, rl.Best.Candidates)
	}
	for _, ids := range [][]string{nil, {"lane-S2"}, {"stock-OEM", "thrift"}, {"lane-S2", "build-S1"}} {
		pl, err := org.Evaluate(ctx, lost, ids)
		if err != nil {
			t.Fatal(err)
		}
		pm, err := org.Evaluate(ctx, money, ids)
		if err != nil {
			t.Fatal(err)
		}
		if want := 250 * pl.Objective; math.Abs(pm.Objective-want) > 1e-9*max(1, want) {
			t.Errorf("%v: expected_lost_cost %v, want 250 × %v = %v", ids, pm.Objective, pl.Objective, want)
		}
		if pm.Objective <= 0 && len(ids) == 0 {
			t.Errorf("no investment loses nothing: the case tests nothing")
		}
	}
	bare := loadSpec(t, "invest_small.json")
	bare.Objective, bare.Runs = org.ObjectiveExpectedLostCost, 5
	var fe *org.FieldError
	if _, err := org.Invest(ctx, bare); !errors.As(err, &fe) || fe.Field != "objective" {
		t.Errorf("expected_lost_cost without money: %v, want an error at objective", err)
	}
}

// survivalSpec is the hand-computed case of time_to_survive: the network
// of testdata/second_source.json (an OEM with 200 units serving 10 a day,
// S2 a standby lane with a 5-day lead time) without its org, S1 out from
// day 0 in scenario "outage" and never in "calm", and one candidate, the
// lane S2 in service from day lead.
func survivalSpec(t *testing.T, lead int, weights ...float64) *org.InvestSpec {
	t.Helper()
	b, err := os.ReadFile("testdata/second_source.json")
	if err != nil {
		t.Fatal(err)
	}
	var sc map[string]any
	if err := json.Unmarshal(b, &sc); err != nil {
		t.Fatal(err)
	}
	delete(sc, "org")
	outage, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	delete(sc, "shocks")
	calm, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	cost := 100.0
	spec := &org.InvestSpec{Candidates: []org.Candidate{{ID: "lane", Kind: org.KindStandbyLane, Arc: "S2->OEM", Cost: &cost, LeadTimeDays: lead}},
		Budget: 1000, Runs: 3, Seed: 1, Objective: org.ObjectiveTimeToSurvive}
	if len(weights) == 0 {
		spec.Scenario = outage
		return spec
	}
	for i, w := range weights {
		doc := outage
		if i == 1 {
			doc = calm
		}
		spec.Scenarios = append(spec.Scenarios, org.WeightedScenario{Name: []string{"outage", "calm"}[i], Weight: &w, Scenario: doc})
	}
	return spec
}

// TestTimeToSurvive: S1 stops on day 0 (the onset), the OEM's stock lasts
// through day 19, so without investment the first stockout is on day 20:
// TTS = 20 days in every run. The lane in service from day L takes the
// OEM's order on day L and its goods arrive on day L + 6 (as in
// TestSecondSourceLatency): up to L = 14 nothing runs out and the run
// survives to the horizon (censored: 60 days); from L = 15 on the stockout
// is on day 20 again. Without a shock (scenario "calm") nothing runs out:
// 60. Over the scenarios weighted 3 : 1 the baseline is 0.75 × 20 + 0.25 ×
// 60 = 30 days. The search maximises it.
func TestTimeToSurvive(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name           string
		lead           int
		weights        []float64
		base, withLane float64
	}{
		{"lane in time", 14, nil, 20, 60},
		{"lane a day late", 15, nil, 20, 20},
		{"lane at once", 0, nil, 20, 60},
		{"two scenarios", 10, []float64{3, 1}, 30, 60},
		{"two scenarios, lane late", 20, []float64{3, 1}, 30, 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := survivalSpec(t, tc.lead, tc.weights...)
			res, err := org.Invest(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			if res.Baseline.Objective != tc.base || res.Baseline.CI != [2]float64{tc.base, tc.base} {
				t.Errorf("baseline %+v, want %v days", res.Baseline, tc.base)
			}
			lane, err := org.Evaluate(ctx, spec, []string{"lane"})
			if err != nil {
				t.Fatal(err)
			}
			if lane.Objective != tc.withLane {
				t.Errorf("with the lane %v days, want %v", lane.Objective, tc.withLane)
			}
			want := []string{}
			if tc.withLane > tc.base {
				want = []string{"lane"}
			}
			if !slices.Equal(res.Best.Candidates, want) || res.Best.Objective != max(tc.base, tc.withLane) {
				t.Errorf("best %+v, want %v at %v days", res.Best, want, max(tc.base, tc.withLane))
			}
			if res.Bound == nil || res.Bound.Gap != 0 || res.Bound.Objective != res.Best.Objective {
				t.Errorf("exhaustive bound %+v, want gap 0 at the best", res.Bound)
			}
		})
	}
}

// TestScenariosMixture: lost demand over the two scenarios of
// TestTimeToSurvive. Without investment "outage" loses 10 a day from day
// 20 to 59 (400) and "calm" nothing. Weighted 3 : 1 the expected loss is
// 300; CVaR 95 % is 400 (the worst 5 % of the mixture's mass is all
// "outage"). Weighted 1 : 49 "outage" holds 2 % of the mass, so the worst
// 5 % is that 2 % at 400 and 3 % at 0: CVaR = 400 × 2/5 = 160, and the
// expectation 8.
func TestScenariosMixture(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		weights   []float64
		objective string
		want      float64
	}{
		{[]float64{3, 1}, org.ObjectiveExpectedLost, 300},
		{[]float64{3, 1}, org.ObjectiveCVaR95, 400},
		{[]float64{1, 49}, org.ObjectiveCVaR95, 160},
		{[]float64{1, 49}, org.ObjectiveExpectedLost, 8},
	}
	for _, tc := range tests {
		spec := survivalSpec(t, 30, tc.weights...)
		spec.Objective, spec.Runs = tc.objective, 40
		pf, err := org.Evaluate(ctx, spec, nil)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(pf.Objective-tc.want) > 1e-9*tc.want {
			t.Errorf("weights %v %s = %v, want %v", tc.weights, tc.objective, pf.Objective, tc.want)
		}
	}
}

// TestOneScenarioEqualsScenario: a spec whose scenarios[] holds the
// scenario alone, with weight 1 (or any weight: they are normalised),
// gives the single-scenario result bit for bit, for every objective and
// search.
func TestOneScenarioEqualsScenario(t *testing.T) {
	ctx := context.Background()
	for _, obj := range org.Objectives() {
		for _, search := range []string{"exhaustive", "greedy", org.SearchBranchAndBound} {
			for _, w := range []float64{1, 2.5} {
				one := withCosts(t)
				one.Objective, one.Search, one.Runs, one.Workers = obj, search, 40, 2
				want, err := org.Invest(ctx, one)
				if err != nil {
					t.Fatal(err)
				}
				mix := withCosts(t)
				mix.Objective, mix.Search, mix.Runs, mix.Workers = obj, search, 40, 3
				mix.Scenarios = []org.WeightedScenario{{Name: "only", Weight: &w, Scenario: mix.Scenario}}
				mix.Scenario = nil
				got, err := org.Invest(ctx, mix)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(want, got, cmpopts.IgnoreUnexported(org.Portfolio{})); d != "" {
					t.Errorf("%s %s weight %v: scenarios[] differs from scenario (-want +got):\n%s", obj, search, w, d)
				}
				// The floats bit for bit (cmp's == takes −0 for 0).
				a, _ := json.Marshal(want)
				b, _ := json.Marshal(got)
				if !slices.Equal(a, b) {
					t.Errorf("%s %s weight %v: %s, want %s", obj, search, w, b, a)
				}
			}
		}
	}
}

// TestScenariosBadInput: the errors of scenarios[] name the field.
func TestScenariosBadInput(t *testing.T) {
	zero := 0.0
	tests := []struct {
		name  string
		edit  func(s *org.InvestSpec)
		field string
	}{
		{"both", func(s *org.InvestSpec) { s.Scenario = s.Scenarios[0].Scenario }, "scenarios"},
		{"zero weight", func(s *org.InvestSpec) { s.Scenarios[1].Weight = &zero }, "scenarios[1].weight"},
		{"other horizon", func(s *org.InvestSpec) {
			var m map[string]any
			json.Unmarshal(s.Scenarios[1].Scenario, &m)
			m["days"] = 90
			s.Scenarios[1].Scenario, _ = json.Marshal(m)
		}, "scenarios[1].scenario.days"},
		{"bad scenario", func(s *org.InvestSpec) { s.Scenarios[0].Scenario = json.RawMessage(`{"start": "2026-01-01"}`) }, "scenarios[0].scenario.days"},
		{"unknown objective", func(s *org.InvestSpec) { s.Objective = "tts" }, "objective"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := survivalSpec(t, 3, 1, 1)
			tc.edit(s)
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var fe *org.FieldError
			if _, err := org.DecodeInvestSpec(b); !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("got %v, want an error at %s", err, tc.field)
			}
		})
	}
}

// TestInvestCost: the estimate admission uses bounds what each search
// evaluates (exhaustive search: exactly the portfolios within the budget),
// and counts every run in every scenario.
func TestInvestCost(t *testing.T) {
	ctx := context.Background()
	for _, search := range []string{"exhaustive", "greedy", org.SearchBranchAndBound} {
		spec := loadSpec(t, "invest_small.json")
		spec.Search, spec.Runs, spec.Workers = search, 10, 2
		c, err := spec.Cost()
		if err != nil {
			t.Fatal(err)
		}
		res, err := org.Invest(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		used := int64(res.Evaluated + res.Bound.Extra)
		if search == "exhaustive" && c.Portfolios != used || used > c.Portfolios {
			t.Errorf("%s: estimate %d portfolios, evaluated %d", search, c.Portfolios, used)
		}
		if c.Total != c.Portfolios*10 || c.Scenarios != 1 || c.Days != 180 || c.Nodes != 4 {
			t.Errorf("%s: cost %+v", search, c)
		}
	}
	spec := survivalSpec(t, 3, 1, 2)
	spec.Runs = 7
	c, err := spec.Cost()
	if err != nil {
		t.Fatal(err)
	}
	if c.Portfolios != 2 || c.Total != 2*7*2 {
		t.Errorf("two scenarios: %+v, want 2 portfolios × 7 runs × 2 scenarios", c)
	}
	big := loadSpec(t, "invest_small.json")
	for i := range 55 {
		cost := 1.0
		big.Candidates = append(big.Candidates, org.Candidate{ID: fmt.Sprint("b", i), Kind: org.KindBuild, Node: "S1", AddCapacityPerPeriod: 1, Cost: &cost})
	}
	big.Search, big.Runs = org.SearchBranchAndBound, 1000
	if c, err := big.Cost(); err != nil || c.Total != math.MaxInt64 {
		t.Errorf("60 candidates by branch and bound: %+v %v, want a saturated total", c, err)
	}
}
