package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestOrgRunContract checks the JSON fields issue 14 names: the supply run
// output plus decisions with rule, signal_day, decided_day, effective_day
// and action.
func TestOrgRunContract(t *testing.T) {
	code, out, errs := runLodestone(t, "", "org", "run", "../../org/testdata/second_source.json", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Start     string                     `json:"start"`
		Days      int                        `json:"days"`
		Nodes     map[string]json.RawMessage `json:"nodes"`
		Decisions []map[string]any           `json:"decisions"`
		Timeline  []map[string]any           `json:"timeline"`
		Zero      *struct{ Lost float64 }    `json:"zero_latency"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Start != "2026-01-01" || got.Days != 60 || len(got.Nodes) != 3 || len(got.Decisions) != 1 || got.Zero == nil || len(got.Timeline) == 0 {
		t.Fatalf("output %s", out)
	}
	d := got.Decisions[0]
	for _, k := range []string{"rule", "signal_day", "decided_day", "effective_day", "action"} {
		if _, ok := d[k]; !ok {
			t.Errorf("decision has no %q: %v", k, d)
		}
	}
	if d["signal_day"] != "2026-01-12" || d["action"].(map[string]any)["type"] != "activate_arc" {
		t.Errorf("decision %v", d)
	}
	code, _, errs = runLodestone(t, `{"start": "2026-01-01", "days": 5, "network": {"nodes": [{"id": "A", "capacity_per_period": 1}]}, "org": {"actors": [], "rules": [{"id": "r", "actor": "x"}]}}`, "org", "run", "-")
	if code == 0 || !strings.Contains(errs, "org.rules[0].actor") {
		t.Errorf("bad actor: exit %d, %s", code, errs)
	}
}

func TestOrgInvestContract(t *testing.T) {
	code, out, errs := runLodestone(t, "", "org", "invest", "../../org/testdata/invest_small.json", "--json", "--workers", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	type pf struct {
		Candidates []string  `json:"candidates"`
		Cost       *float64  `json:"cost"`
		Objective  *float64  `json:"objective"`
		CI         []float64 `json:"ci"`
	}
	var got struct {
		Best     pf   `json:"best"`
		Frontier []pf `json:"frontier"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Best.Cost == nil || got.Best.Objective == nil || len(got.Best.CI) != 2 || len(got.Best.Candidates) == 0 || len(got.Frontier) < 2 {
		t.Fatalf("output %s", out)
	}
	if *got.Best.Cost > 600 {
		t.Errorf("best costs %v, over the budget 600", *got.Best.Cost)
	}
}

// TestOrgInvestBoundAndScenarios: the text output gives the bound; a SPEC
// with scenarios[] and the objective time_to_survive runs through the CLI
// (they are SPEC fields) and its JSON carries the bound.
func TestOrgInvestBoundAndScenarios(t *testing.T) {
	code, out, errs := runLodestone(t, "", "org", "invest", "../../org/testdata/invest_small.json", "--workers", "2", "--search", "greedy")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "bound: no portfolio within the budget beats") || !strings.Contains(out, "monotone_diminishing_gains") {
		t.Errorf("no bound in %s", out)
	}
	b, err := os.ReadFile("../../org/testdata/invest_small.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	spec["scenarios"] = []any{map[string]any{"name": "base", "weight": 2, "scenario": spec["scenario"]}, map[string]any{"name": "again", "scenario": spec["scenario"]}}
	delete(spec, "scenario")
	spec["objective"], spec["runs"] = "time_to_survive", 20
	in, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs = runLodestone(t, string(in), "org", "invest", "-", "--json", "--workers", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Objective string
		Best      struct{ Objective float64 }
		Baseline  struct{ Objective float64 }
		Bound     *struct {
			Gap     float64
			Assumes string
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Objective != "time_to_survive" || got.Bound == nil || got.Bound.Assumes != "nothing" || got.Best.Objective < got.Baseline.Objective || got.Best.Objective > 180 {
		t.Errorf("output %s", out)
	}
}
