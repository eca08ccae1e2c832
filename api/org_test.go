package api_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestOrgRoutes(t *testing.T) {
	e := start(t, options{})
	sc, err := os.ReadFile("../org/testdata/second_source.json")
	if err != nil {
		t.Fatal(err)
	}
	r := e.mustDo("POST", "/org/run?seed=3&moved=true", string(sc), 200)
	var run struct {
		Decisions []struct {
			Rule  string `json:"rule"`
			Moved *struct {
				LostSaved float64 `json:"lost_saved"`
			} `json:"moved"`
		} `json:"decisions"`
		Nodes       map[string]json.RawMessage `json:"nodes"`
		LatencyCost *float64                   `json:"latency_cost"`
	}
	if err := json.Unmarshal(r.body, &run); err != nil {
		t.Fatal(err)
	}
	if len(run.Decisions) != 1 || run.Decisions[0].Moved == nil || run.Decisions[0].Moved.LostSaved != 400 || len(run.Nodes) != 3 || run.LatencyCost == nil {
		t.Errorf("POST /org/run: %s", r.body)
	}
	bad := strings.Replace(string(sc), `"latency_days": 0`, `"latency_days": -4`, 1)
	r = e.mustDo("POST", "/org/run", bad, 400)
	if !strings.Contains(string(r.body), "org.rules[0].latency_days") {
		t.Errorf("bad latency: %s", r.body)
	}
	spec, err := os.ReadFile("../org/testdata/invest_small.json")
	if err != nil {
		t.Fatal(err)
	}
	small := strings.Replace(string(spec), `"runs": 200`, `"runs": 20`, 1)
	r = e.mustDo("POST", "/org/invest", small, 200)
	var inv struct {
		Best struct {
			Candidates []string  `json:"candidates"`
			CI         []float64 `json:"ci"`
		} `json:"best"`
		Frontier []json.RawMessage `json:"frontier"`
	}
	if err := json.Unmarshal(r.body, &inv); err != nil {
		t.Fatal(err)
	}
	if len(inv.Best.CI) != 2 || len(inv.Frontier) == 0 {
		t.Errorf("POST /org/invest: %s", r.body)
	}
	r = e.mustDo("POST", "/org/invest", strings.Replace(small, `"cost": 300, `, "", 1), 400)
	if !strings.Contains(string(r.body), "candidates[0].cost") {
		t.Errorf("no cost: %s", r.body)
	}
}
