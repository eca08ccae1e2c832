package org_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"lodestone/org"
	"lodestone/supply"
	"lodestone/world"
)

// worldOrg is the default world's april-2025 scenario over five years with
// 20 rules: the network's last arc into each of the first nodes with two or
// more sources is put on standby, and procurement rules on days of cover
// (one per node, thresholds 5–40 days) activate them.
func worldOrg(tb testing.TB) *org.Scenario {
	tb.Helper()
	w, err := world.Load()
	if err != nil {
		tb.Fatal(err)
	}
	s, err := w.Scenario(world.ScenarioApril2025, nil)
	if err != nil {
		tb.Fatal(err)
	}
	into := map[supply.NodeID][]int{}
	for i, a := range s.Network.Arcs {
		into[a.To] = append(into[a.To], i)
	}
	var standby []int
	for _, n := range s.Network.Nodes {
		if as := into[n.ID]; len(as) >= 2 && len(standby) < 5 {
			a := as[len(as)-1]
			s.Network.Arcs[a].Standby = true
			standby = append(standby, a)
		}
	}
	if len(standby) == 0 {
		tb.Fatal("no node with two sources in the default world")
	}
	sc := &org.Scenario{Supply: s, Org: org.Org{Actors: []org.Actor{{ID: "buyer", Role: "procurement"}, {ID: "cfo", Role: "finance"}}}}
	for k := range 20 {
		a := s.Network.Arcs[standby[k%len(standby)]]
		thr := 5 + float64(k)*35/19
		sc.Org.Rules = append(sc.Org.Rules, org.Rule{ID: fmt.Sprintf("r%d", k), Actor: "buyer", LatencyDays: k % 7,
			When:     org.When{Signal: org.SignalDaysOfCover, Node: string(s.Network.Nodes[k%len(s.Network.Nodes)].ID), Below: &thr},
			Action:   org.Action{Type: org.ActionActivateArc, Arc: string(a.From) + "->" + string(a.To)},
			Approval: &org.Approval{Actor: "cfo", LatencyDays: 3}})
	}
	if err := sc.Validate(); err != nil {
		tb.Fatal(err)
	}
	return sc
}

// BenchmarkOrgRunWorld compares `org run` of the default world with 20
// rules over five years (no counterfactual) with the same `supply run`
// (the acceptance target: within 2×).
func BenchmarkOrgRunWorld(b *testing.B) {
	sc := worldOrg(b)
	b.Run("supply", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := supply.Run(b.Context(), sc.Supply, rand.New(rand.NewPCG(1, 0))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("org", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := org.Run(b.Context(), sc, org.Options{Seed: 1}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("org+zero-latency", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := org.Run(b.Context(), sc, org.Options{Seed: 1, ZeroLatency: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// investBench is a spec of 12 SYNTHETIC candidates (invented costs) on the
// synthetic Monte Carlo example of examples/supply (9 nodes, one year,
// random outages of the Chinese separator), with the us-eu lane on standby.
func investBench(tb testing.TB, runs int) *org.InvestSpec {
	tb.Helper()
	b, err := os.ReadFile("../examples/supply/scenario-montecarlo.json")
	if err != nil {
		tb.Fatal(err)
	}
	var sc map[string]any
	if err := json.Unmarshal(b, &sc); err != nil {
		tb.Fatal(err)
	}
	for _, a := range sc["network"].(map[string]any)["arcs"].([]any) {
		if a.(map[string]any)["id"] == "us-eu" {
			a.(map[string]any)["standby"] = true
		}
	}
	raw, err := json.Marshal(sc)
	if err != nil {
		tb.Fatal(err)
	}
	c := func(v float64) *float64 { return &v }
	spec := &org.InvestSpec{Scenario: raw, Budget: 1000, Runs: runs, Seed: 1, Workers: runtime.GOMAXPROCS(0), Candidates: []org.Candidate{
		{ID: "lane-us", Kind: org.KindStandbyLane, Arc: "us-eu", Cost: c(200), LeadTimeDays: 30},
		{ID: "build-sep-my", Kind: org.KindBuild, Node: "sep-my", AddCapacityPerPeriod: 4, Cost: c(400), LeadTimeDays: 180, RampDays: 60},
		{ID: "build-sep-cn", Kind: org.KindBuild, Node: "sep-cn", AddCapacityPerPeriod: 5, Cost: c(300), LeadTimeDays: 120},
		{ID: "build-magnet-jp", Kind: org.KindBuild, Node: "magnet-jp", AddCapacityPerPeriod: 4, Cost: c(350), LeadTimeDays: 150},
		{ID: "build-magnet-us", Kind: org.KindBuild, Node: "magnet-us", AddCapacityPerPeriod: 5, Cost: c(500), LeadTimeDays: 200},
		{ID: "build-mine-au", Kind: org.KindBuild, Node: "mine-au", AddCapacityPerPeriod: 10, Cost: c(450), LeadTimeDays: 240},
		{ID: "stock-oem-300", Kind: org.KindStockpile, Node: "oem-eu", Material: "NdFeB magnet Dy", Size: 300, Cost: c(150), HoldingCostPerUnitDay: 0.001},
		{ID: "stock-oem-900", Kind: org.KindStockpile, Node: "oem-eu", Material: "NdFeB magnet Dy", Size: 900, Cost: c(420), HoldingCostPerUnitDay: 0.001},
		{ID: "stock-jp", Kind: org.KindStockpile, Node: "magnet-jp", Material: "NdPr Dy oxide", Size: 100, Cost: c(120)},
		{ID: "thrift-10", Kind: org.KindSubstitution, Node: "oem-eu", RatePerYear: 0.1, MaxShare: 0.1, Cost: c(100)},
		{ID: "thrift-25", Kind: org.KindSubstitution, Node: "oem-eu", RatePerYear: 0.25, MaxShare: 0.25, Cost: c(260), LeadTimeDays: 90},
		{ID: "build-oem", Kind: org.KindBuild, Node: "oem-eu", AddCapacityPerPeriod: 5, Cost: c(80), RunningCostPerDay: 0.2},
	}}
	return spec
}

// BenchmarkOrgInvest12x1000 is the acceptance target: 12 candidates ×
// 1,000 runs (greedy search, the default, with its bound) in under a
// minute. It reports the portfolios evaluated, those evaluated for the
// bound alone, and the bound's gap.
func BenchmarkOrgInvest12x1000(b *testing.B) {
	spec := investBench(b, 1000)
	for b.Loop() {
		res, err := org.Invest(b.Context(), spec)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Evaluated), "portfolios")
		b.ReportMetric(float64(res.Bound.Extra), "bound-evals")
		b.ReportMetric(res.Bound.Gap, "gap")
		b.ReportMetric(res.Best.Objective, "best")
	}
}

func TestInvestBenchSpec(t *testing.T) {
	spec := investBench(t, 4)
	res, err := org.Invest(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != "greedy" || res.Best.Cost > spec.Budget {
		t.Errorf("%+v", res)
	}
	t.Logf("best %+v of %d, baseline %v", res.Best, res.Evaluated, res.Baseline.Objective)
}

// TestWorldOrgFires checks that the benchmark's rules do fire (the
// benchmark would measure little otherwise).
func TestWorldOrgFires(t *testing.T) {
	if testing.Short() {
		t.Skip("five years of the default world")
	}
	sc := worldOrg(t)
	res, err := org.Run(t.Context(), sc, org.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Decisions) == 0 {
		t.Fatal("no rule fired")
	}
	t.Logf("%d of 20 rules fired; lost %v", len(res.Decisions), res.Lost)
}

// BenchmarkOrgInvest12x1000BranchAndBound is the same search by branch
// and bound (search "branch_and_bound").
func BenchmarkOrgInvest12x1000BranchAndBound(b *testing.B) {
	spec := investBench(b, 1000)
	spec.Search = org.SearchBranchAndBound
	for b.Loop() {
		res, err := org.Invest(b.Context(), spec)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Evaluated), "portfolios")
		b.ReportMetric(res.Best.Objective, "best")
	}
}
