package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/internal/golden"
	"lodestone/supply"
)

func runSupplyCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{stdout: &out, stderr: &errb, stdin: strings.NewReader(stdin)}
	code := run(t.Context(), env, args)
	return code, out.String(), errb.String()
}

// supplyGoldenNote is the provenance of the supply CLI golden files: the
// examples are SYNTHETIC (examples/supply/README.md), so every number is
// this code's output.
const supplyGoldenNote = "SYNTHETIC example (examples/supply/README.md): the numbers pin the engine's " +
	"output for a format illustration; TestSupplyStressContract and TestSupplyRunContract check hand-computed " +
	"values on other networks"

// TestSupplyExamples runs every example of examples/supply through the CLI:
// network*.json through `supply stress`, scenario*.json through `supply
// run` (with --runs for Monte Carlo scenarios), and compares the JSON with
// golden files (regenerate with -update).
func TestSupplyExamples(t *testing.T) {
	files, err := filepath.Glob("../../examples/supply/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, f := range files {
		base := filepath.Base(f)
		var args []string
		switch {
		case strings.HasPrefix(base, "network"):
			args = []string{"supply", "stress", f, "--json", "--stock"}
		case strings.Contains(base, "montecarlo"):
			args = []string{"supply", "run", f, "--json", "--runs", "64", "--seed", "3"}
		case strings.HasPrefix(base, "scenario"):
			args = []string{"supply", "run", f, "--json"}
		default:
			continue
		}
		t.Run(base, func(t *testing.T) {
			code, out, errs := runSupplyCLI(t, "", args...)
			if code != 0 {
				t.Fatalf("lodestone %v: exit %d, stderr %s", args, code, errs)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("output is not JSON: %v", err)
			}
			key := "nodes"
			if args[1] == "stress" {
				key = "scenarios"
			}
			if _, ok := doc[key]; !ok {
				t.Errorf("output has no %q", key)
			}
			// Compare as JSON with a tolerance: the bits are deterministic on
			// one machine, but fused multiply-add on other architectures may
			// move the last digits.
			golden.CheckJSON(t, filepath.Join("testdata", "supply", strings.TrimSuffix(base, ".json")+".golden.json"),
				golden.Snapshot(supplyGoldenNote), []byte(out), 1e-9, 1e-9)
			// The human output works too.
			hargs := []string{}
			for _, a := range args {
				if a != "--json" {
					hargs = append(hargs, a)
				}
			}
			if code, out, errs := runSupplyCLI(t, "", hargs...); code != 0 || out == "" {
				t.Errorf("human output: exit %d, stderr %s", code, errs)
			}
		})
	}
}

func TestSupplyStressContract(t *testing.T) {
	net := `{"nodes": [
	  {"id": "S", "stage": "mine", "country": "CN", "capacity_per_period": 10, "inventory": 0, "demand_per_period": 0, "loss_per_unit": 0},
	  {"id": "O", "stage": "oem", "country": "DE", "capacity_per_period": 10, "inventory": 20, "demand_per_period": 10, "loss_per_unit": 5}],
	 "arcs": [{"from": "S", "to": "O", "ratio": 1}],
	 "scenarios": [{"name": "S down", "disrupted": ["S"], "ttr_periods": 5}],
	 "tts_cap_periods": 999}`
	code, out, errs := runSupplyCLI(t, net, "supply", "stress", "-", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Scenarios []struct {
			Name            string  `json:"name"`
			LostUnits       float64 `json:"lost_units"`
			LossValue       float64 `json:"loss_value"`
			REI             float64 `json:"rei"`
			TTS             float64 `json:"tts"`
			TTSCapped       bool    `json:"tts_capped"`
			ShortagePeriods float64 `json:"shortage_periods"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := got
	want.Scenarios = append(want.Scenarios[:0:0], struct {
		Name            string  `json:"name"`
		LostUnits       float64 `json:"lost_units"`
		LossValue       float64 `json:"loss_value"`
		REI             float64 `json:"rei"`
		TTS             float64 `json:"tts"`
		TTSCapped       bool    `json:"tts_capped"`
		ShortagePeriods float64 `json:"shortage_periods"`
	}{"S down", 30, 150, 1, 2, false, 3})
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stress output (-want +got):\n%s", d)
	}
	// A baseline row (disrupted: []) and a surge (capacity factor 2) are
	// allowed; the baseline loses nothing and survives to the cap.
	base := strings.Replace(net, `"scenarios": [`, `"scenarios": [{"name": "baseline", "disrupted": [], "ttr_periods": 5}, {"name": "surge", "disrupted": ["S"], "ttr_periods": 5, "capacity_factor": 2}, `, 1)
	code, out, errs = runSupplyCLI(t, base, "supply", "stress", "-", "--json")
	if code != 0 {
		t.Fatalf("baseline: exit %d: %s", code, errs)
	}
	var all struct {
		Scenarios []supply.StressResult `json:"scenarios"`
		Legend    supply.StressLegend   `json:"legend"`
	}
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatal(err)
	}
	if len(all.Scenarios) != 3 || all.Scenarios[0].LostUnits != 0 || !all.Scenarios[0].TTSCapped || all.Scenarios[1].LostUnits != 0 {
		t.Errorf("baseline and surge rows: %+v", all.Scenarios)
	}
	if all.Legend.DefaultTTRUsed || all.Legend.Units["rei"] == "" || all.Legend.Definitions["rei"] != supply.REIDefinition {
		t.Errorf("legend = %+v", all.Legend)
	}
	// A factor above the maximum is refused, naming the field.
	bad := strings.Replace(net, `"ttr_periods": 5}`, `"ttr_periods": 5, "capacity_factor": 11}`, 1)
	if code, _, errs := runSupplyCLI(t, bad, "supply", "stress", "-"); code == 0 || !strings.Contains(errs, "scenarios[0].capacity_factor") {
		t.Errorf("factor 11: exit %d, stderr %q", code, errs)
	}
	// Without scenarios: every node alone for the default TTR, named in
	// the legend and in the text output with REI's definition.
	noSc := strings.Replace(net, `"scenarios": [{"name": "S down", "disrupted": ["S"], "ttr_periods": 5}],`, "", 1)
	code, out, errs = runSupplyCLI(t, noSc, "supply", "stress", "-")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("TTR of every node alone: %d", supply.DefaultTTR)) || !strings.Contains(out, "REI: risk exposure index") {
		t.Errorf("text output: exit %d, stderr %s, out:\n%s", code, errs, out)
	}
}

func TestSupplyRunContract(t *testing.T) {
	sc := `{"start": "2025-01-01", "days": 60,
	 "network": {"nodes": [
	   {"id": "M", "country": "CN", "capacity_per_period": 20},
	   {"id": "O", "country": "US", "capacity_per_period": 10, "inventory": 50, "demand_per_period": 10,
	    "input_inventory": {"default": 130}}],
	  "arcs": [{"id": "MO", "from": "M", "to": "O", "ratio": 1, "lead_time_days": 1, "in_transit": 10}]},
	 "shocks": [{"node": "M", "from": "2025-01-11", "to": "2025-02-09", "capacity_factor": 0}],
	 "controls": [], "policies": {}}`
	code, out, errs := runSupplyCLI(t, sc, "supply", "run", "-", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Nodes map[string]struct {
			FirstStockout *string `json:"first_stockout"`
			StockoutDays  int     `json:"stockout_days"`
			FillRate      float64 `json:"fill_rate"`
			Monthly       []struct {
				Month        string  `json:"month"`
				FillRate     float64 `json:"fill_rate"`
				Lost         float64 `json:"lost"`
				InventoryEnd float64 `json:"inventory_end"`
			} `json:"monthly"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	o := got.Nodes["O"]
	if o.FirstStockout == nil || *o.FirstStockout != "2025-01-30" || o.StockoutDays != 12 || len(o.Monthly) != 3 || o.Monthly[0].Month != "2025-01" {
		t.Errorf("O = %+v", o)
	}
	if m := got.Nodes["M"]; m.FirstStockout == nil {
		t.Errorf("M has no stockout during its outage: %+v", m)
	}
	// Monte Carlo: distributions of the same KPIs.
	code, out, errs = runSupplyCLI(t, sc, "supply", "run", "-", "--json", "--runs", "8", "--seed", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var mc struct {
		Runs  int `json:"runs"`
		Nodes map[string]struct {
			StockoutDays struct{ Mean float64 } `json:"stockout_days"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(out), &mc); err != nil {
		t.Fatal(err)
	}
	if mc.Runs != 8 || mc.Nodes["O"].StockoutDays.Mean != 12 {
		t.Errorf("monte carlo = %+v", mc)
	}
}

func TestSupplyCLIErrors(t *testing.T) {
	tests := []struct {
		name, cmd, in string
		code          int
		want          string
	}{
		{"unknown field", "stress", `{"nodes": [{"id": "A", "capacity_per_period": 1, "colour": "red"}]}`, 1, `nodes[0].colour: unknown field`},
		{"missing required", "stress", `{"nodes": [{"capacity_per_period": 1}]}`, 1, `nodes[0].id: required`},
		{"unknown arc node", "stress", `{"nodes": [{"id": "A", "capacity_per_period": 1}], "arcs": [{"from": "A", "to": "X", "ratio": 1}]}`, 1, `arcs[0].to: unknown node "X"`},
		{"zero ratio", "stress", `{"nodes": [{"id": "A", "capacity_per_period": 1}, {"id": "B", "capacity_per_period": 1}], "arcs": [{"from": "A", "to": "B", "ratio": 0}]}`, 1, `arcs[0].ratio: must be > 0`},
		{"cycle without stock", "stress", `{"nodes": [{"id": "A", "capacity_per_period": 1}, {"id": "B", "capacity_per_period": 1}], "arcs": [{"from": "A", "to": "B", "ratio": 1}, {"from": "B", "to": "A", "ratio": 1}]}`, 1, `cycle through A, B with no stock`},
		{"dates out of order", "run", `{"start": "2025-01-01", "days": 10, "network": {"nodes": [{"id": "A", "capacity_per_period": 1}]}, "shocks": [{"node": "A", "from": "2025-02-01", "to": "2025-01-05"}]}`, 1, `shocks[0].to: date 2025-01-05 is before from 2025-02-01`},
		{"missing days", "run", `{"start": "2025-01-01", "network": {"nodes": [{"id": "A", "capacity_per_period": 1}]}}`, 1, `days: required`},
		{"bad network field", "run", `{"start": "2025-01-01", "days": 3, "network": {"nodes": [{"id": "A", "capacity_per_period": -1}]}}`, 1, `network.nodes[0].capacity_per_period: must be >= 0`},
		{"no file", "stress", "", 2, "want one NETWORK file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"supply", tt.cmd, "-"}
			if tt.code == 2 {
				args = args[:2]
			}
			code, _, errs := runSupplyCLI(t, tt.in, args...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d with %q", code, errs, tt.code, tt.want)
			}
		})
	}
}

// TestSupplyRunMoney checks the money of `supply run`: per-node cost fields
// and the run's sums with prices, and --baseline's net benefit over the
// same runs.
func TestSupplyRunMoney(t *testing.T) {
	mit := `{"start": "2025-01-01", "days": 20,
	 "network": {"nodes": [{"id": "S", "country": "JP", "capacity_per_period": 10, "inventory": 30, "demand_per_period": 10}]},
	 "shocks": [{"node": "S", "from": "2025-01-01", "to": "2025-01-10"}],
	 "prices": [{"material": "magnet", "country": "JP", "price": 50, "currency": "USD", "unit": "kg", "date": "2024-12-01", "source": "test"}],
	 "costs": {"holding_rate_per_year": 0.365, "nodes": {"S": {"material": "magnet", "margin_per_unit": 20000}}},
	 "builds": [{"node": "S", "online": "2025-01-16", "add_capacity_per_period": 5, "capex": 1000000, "opex_per_day": 100}]}`
	code, out, errs := runSupplyCLI(t, mit, "supply", "run", "-", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Nodes map[string]struct {
			Lost float64          `json:"lost"`
			Cost *supply.NodeCost `json:"cost"`
		} `json:"nodes"`
		Cost *supply.RunCost `json:"cost"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	// The hand calculation of supply's TestMoneyByHand.
	if c := got.Nodes["S"].Cost; c == nil || c.RevenueAtRisk != 3.5e6 || c.LostDemandCost != 1.4e6 || c.Total != 2405750 || got.Cost == nil || got.Cost.Currency != "USD" {
		t.Errorf("cost = %+v, run %+v", c, got.Cost)
	}
	// The baseline lacks the build: the mitigation costs 1,000,500 more
	// and avoids nothing (the build comes after the outage), and holds more.
	dir := t.TempDir()
	base := strings.Replace(mit, `"builds": [{"node": "S", "online": "2025-01-16", "add_capacity_per_period": 5, "capex": 1000000, "opex_per_day": 100}]`, `"builds": []`, 1)
	if err := os.WriteFile(filepath.Join(dir, "base.json"), []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runSupplyCLI(t, mit, "supply", "run", "-", "--runs", "4", "--baseline", filepath.Join(dir, "base.json"), "--json")
	if code != 0 {
		t.Fatalf("--baseline: exit %d: %s", code, errs)
	}
	var cmpOut struct {
		Benefit supply.Benefit `json:"benefit"`
	}
	if err := json.Unmarshal([]byte(out), &cmpOut); err != nil {
		t.Fatal(err)
	}
	b := cmpOut.Benefit
	if b.Runs != 4 || b.MitigationCost.Mean != 1000500 || b.AvoidedLostDemandCost.Mean != 0 || b.NetBenefit.Mean >= -1000500 || b.NetBenefit.CI95 != 0 {
		t.Errorf("benefit = %+v", b)
	}
	if code, out, _ := runSupplyCLI(t, mit, "supply", "run", "-", "--runs", "4", "--baseline", filepath.Join(dir, "base.json")); code != 0 || !strings.Contains(out, "net benefit") {
		t.Errorf("--baseline text: exit %d, out %s", code, out)
	}
	if code, _, errs := runSupplyCLI(t, mit, "supply", "run", "-", "--baseline", filepath.Join(dir, "base.json")); code == 0 || !strings.Contains(errs, "--runs") {
		t.Errorf("--baseline without --runs: exit %d, stderr %s", code, errs)
	}
}
