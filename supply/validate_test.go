package supply_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/supply"
)

func TestDecodeNetworkErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"not JSON", `{`, "supply: invalid JSON"},
		{"unknown top field", `{"nodes": [{"id": "A", "capacity_per_period": 1}], "extra": 1}`, "supply: extra: unknown field"},
		{"unknown node field", `{"nodes": [{"id": "A", "capacity_per_period": 1, "x": 2}]}`, "supply: nodes[0].x: unknown field"},
		{"missing id", `{"nodes": [{"capacity_per_period": 1}]}`, "supply: nodes[0].id: required"},
		{"missing nodes", `{"arcs": []}`, "supply: nodes: required"},
		{"wrong type", `{"nodes": [{"id": "A", "capacity_per_period": "1"}]}`, "supply: nodes[0].capacity_per_period: must be a number"},
		{"duplicate id", `{"nodes": [{"id": "A"}, {"id": "A"}]}`, `supply: nodes[1].id: duplicate id "A" (also nodes[0])`},
		{"negative capacity", `{"nodes": [{"id": "A", "capacity_per_period": -1}]}`, "supply: nodes[0].capacity_per_period: must be >= 0"},
		{"unknown from", `{"nodes": [{"id": "A"}], "arcs": [{"from": "X", "to": "A", "ratio": 1}]}`, `supply: arcs[0].from: unknown node "X"`},
		{"unknown to", `{"nodes": [{"id": "A"}, {"id": "B"}], "arcs": [{"from": "A", "to": "B", "ratio": 1}, {"from": "A", "to": "B", "ratio": 1}, {"from": "A", "to": "B", "ratio": 1}, {"from": "A", "to": "X", "ratio": 1}]}`, `supply: arcs[3].to: unknown node "X"`},
		{"zero ratio", `{"nodes": [{"id": "A"}, {"id": "B"}], "arcs": [{"from": "A", "to": "B", "ratio": 1}, {"from": "A", "to": "B", "ratio": 0}]}`, "supply: arcs[1].ratio: must be > 0"},
		{"missing ratio", `{"nodes": [{"id": "A"}, {"id": "B"}], "arcs": [{"from": "A", "to": "B"}]}`, "supply: arcs[0].ratio: required"},
		{"cycle with no stock", `{"nodes": [{"id": "A"}, {"id": "B"}, {"id": "C"}], "arcs": [{"from": "C", "to": "A", "ratio": 1}, {"from": "A", "to": "B", "ratio": 1}, {"from": "B", "to": "A", "ratio": 1}]}`, "supply: arcs[1]: cycle through A, B with no stock"},
		{"scenario unknown node", `{"nodes": [{"id": "A"}], "scenarios": [{"name": "s", "disrupted": ["B"], "ttr_periods": 1}]}`, `supply: scenarios[0].disrupted[0]: unknown node "B"`},
		{"scenario ttr", `{"nodes": [{"id": "A"}], "scenarios": [{"name": "s", "disrupted": ["A"], "ttr_periods": 0}]}`, "supply: scenarios[0].ttr_periods: must be > 0"},
		{"scenario factor", `{"nodes": [{"id": "A"}], "scenarios": [{"name": "s", "disrupted": ["A"], "ttr_periods": 1, "capacity_factor": 10.01}]}`, "supply: scenarios[0].capacity_factor: must be <= 10"},
		{"input inventory no inputs", `{"nodes": [{"id": "A", "input_inventory": {"default": 1}}]}`, `supply: nodes[0].input_inventory.default: node "A" takes no material "default"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := supply.DecodeNetwork([]byte(tt.in))
			if err == nil || err.Error() != tt.want && !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("DecodeNetwork(%s) = %v, want %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestValidateNaN(t *testing.T) {
	net := supply.Network{Nodes: []supply.Node{{ID: "A", Inventory: math.NaN()}}}
	var fe *supply.FieldError
	if err := net.Validate(); !errors.As(err, &fe) || fe.Field != "nodes[0].inventory" {
		t.Errorf("Validate = %v, want a FieldError on nodes[0].inventory", err)
	}
	net = supply.Network{Nodes: []supply.Node{{ID: "A"}, {ID: "B"}}, Arcs: []supply.Arc{{From: "A", To: "B", Ratio: math.Inf(1)}}}
	if err := net.Validate(); !errors.As(err, &fe) || fe.Field != "arcs[0].ratio" {
		t.Errorf("Validate = %v, want a FieldError on arcs[0].ratio", err)
	}
}

func TestDecodeScenarioErrors(t *testing.T) {
	net := `"network": {"nodes": [{"id": "A", "country": "CN", "capacity_per_period": 1}, {"id": "B", "country": "DE", "capacity_per_period": 1, "demand_per_period": 1}], "arcs": [{"id": "ab", "from": "A", "to": "B", "ratio": 1}]}`
	tests := []struct {
		name, in, want string
	}{
		{"bad start", `{"start": "2025-13-01", "days": 1, ` + net + `}`, `supply: start: invalid date "2025-13-01"`},
		{"days", `{"start": "2025-01-01", "days": 0, ` + net + `}`, "supply: days: must be > 0"},
		{"shock dates", `{"start": "2025-01-01", "days": 9, ` + net + `, "shocks": [{"node": "A", "from": "2025-03-01", "to": "2025-02-01"}]}`, "supply: shocks[0].to: date 2025-02-01 is before from 2025-03-01"},
		{"shock arc", `{"start": "2025-01-01", "days": 9, ` + net + `, "shocks": [{"arc": "zz", "from": "2025-03-01", "to": "2025-03-01"}]}`, `supply: shocks[0].arc: unknown arc "zz"`},
		{"shock factor", `{"start": "2025-01-01", "days": 9, ` + net + `, "shocks": [{"node": "A", "from": "2025-03-01", "to": "2025-03-01", "capacity_factor": 10.5}]}`, "supply: shocks[0].capacity_factor: must be in [0, 10]"},
		{"demand factor", `{"start": "2025-01-01", "days": 9, ` + net + `, "shocks": [{"node": "B", "kind": "demand_surge", "from": "2025-03-01", "to": "2025-03-01", "demand_factor": 11}]}`, "supply: shocks[0].demand_factor: must be in [0, 10]"},
		{"random factor", `{"start": "2025-01-01", "days": 9, ` + net + `, "random_shocks": [{"name": "r", "nodes": ["A"], "prob_per_day": 0.1, "duration_days": 2, "capacity_factor": 12}]}`, "supply: random_shocks[0].capacity_factor: must be in [0, 10]"},
		{"input inventory", `{"start": "2025-01-01", "days": 9, "network": {"nodes": [{"id": "A", "capacity_per_period": 1}, {"id": "B", "capacity_per_period": 1, "input_inventory": {"Dy oxide": 5}}], "arcs": [{"from": "A", "to": "B", "ratio": 1}]}}`, `supply: network.nodes[1].input_inventory.Dy oxide: node "B" takes no material "Dy oxide"`},
		{"in transit", `{"start": "2025-01-01", "days": 9, "network": {"nodes": [{"id": "A"}, {"id": "B"}], "arcs": [{"from": "A", "to": "B", "ratio": 1, "in_transit": -1}]}}`, "supply: network.arcs[0].in_transit: must be >= 0"},
		{"price currency", `{"start": "2025-01-01", "days": 9, ` + net + `, "prices": [{"material": "NdPr oxide", "country": "CN", "price": 60, "unit": "kg", "date": "2025-07-01", "source": "S26"}]}`, "supply: prices[0].currency: required"},
		{"price date", `{"start": "2025-01-01", "days": 9, ` + net + `, "prices": [{"material": "NdPr oxide", "country": "CN", "price": 60, "currency": "USD", "unit": "kg", "source": "S26"}]}`, "supply: prices[0].date: required"},
		{"price source", `{"start": "2025-01-01", "days": 9, ` + net + `, "prices": [{"material": "NdPr oxide", "price": 60, "currency": "USD", "unit": "kg", "date": "2025-07-01"}]}`, "supply: prices[0].source: required"},
		{"price unit", `{"start": "2025-01-01", "days": 9, ` + net + `, "prices": [{"material": "NdPr oxide", "price": 60, "currency": "USD", "unit": "lb", "date": "2025-07-01", "source": "S26"}]}`, `supply: prices[0].unit: unknown unit "lb"`},
		{"price currency mix", `{"start": "2025-01-01", "days": 9, ` + net + `, "prices": [{"material": "a", "price": 1, "currency": "USD", "unit": "kg", "date": "2025-07-01", "source": "x"}, {"material": "b", "price": 1, "currency": "CNY", "unit": "kg", "date": "2025-07-01", "source": "x"}]}`, `supply: prices[1].currency: "CNY" differs`},
		{"cost node", `{"start": "2025-01-01", "days": 9, ` + net + `, "costs": {"nodes": {"Z": {"margin_per_unit": 1}}}}`, `supply: costs.nodes.Z: unknown node "Z"`},
		{"build capex", `{"start": "2025-01-01", "days": 9, ` + net + `, "builds": [{"node": "A", "online": "2025-01-02", "add_capacity_per_period": 1, "capex": -1}]}`, "supply: builds[0].capex: must be >= 0"},
		{"control mode", `{"start": "2025-01-01", "days": 9, ` + net + `, "controls": [{"name": "x", "country": "CN", "mode": "embargo", "effective": "2025-01-01"}]}`, `supply: controls[0].mode: unknown mode "embargo"`},
		{"control builtin", `{"start": "2025-01-01", "days": 9, ` + net + `, "controls": [{"name": "x", "builtin": "CN-1999"}]}`, `supply: controls[0].builtin: unknown built-in control "CN-1999"`},
		{"control resumes", `{"start": "2025-01-01", "days": 9, ` + net + `, "controls": [{"name": "x", "country": "CN", "mode": "ban", "effective": "2025-01-01", "suspended": "2025-05-01", "resumes": "2025-04-01"}]}`, "supply: controls[0].resumes: date 2025-04-01 is before suspended 2025-05-01"},
		{"policy node", `{"start": "2025-01-01", "days": 9, ` + net + `, "policies": {"nodes": {"Z": {}}}}`, `supply: policies.nodes.Z: unknown node "Z"`},
		{"qualification arc", `{"start": "2025-01-01", "days": 9, ` + net + `, "qualifications": [{"arc": "B->A", "start": "2025-01-01"}]}`, `supply: qualifications[0].arc: unknown arc "B->A"`},
		{"network path", `{"start": "2025-01-01", "days": 9, "network": {"nodes": [{"id": "A"}], "arcs": [{"from": "A", "to": "Q", "ratio": 1}]}}`, `supply: network.arcs[0].to: unknown node "Q"`},
		{"random shock", `{"start": "2025-01-01", "days": 9, ` + net + `, "random_shocks": [{"name": "r", "nodes": ["A"], "prob_per_day": 1.5, "duration_days": 3}]}`, "supply: random_shocks[0].prob_per_day: must be in [0, 1]"},
		// Of two bad keys of one map, the first in sorted order every time.
		{"two unknown policy nodes", `{"start": "2025-01-01", "days": 9, ` + net + `, "policies": {"nodes": {"Z": {}, "Y": {}}}}`, `supply: policies.nodes.Y: unknown node "Y"`},
		{"two bad policy values", `{"start": "2025-01-01", "days": 9, ` + net + `, "policies": {"nodes": {"B": {"cover_days": "x"}, "A": {"cover_days": "y"}}}}`, "supply: policies.nodes.A.cover_days: must be a number"},
		{"two unknown policy fields", `{"start": "2025-01-01", "days": 9, ` + net + `, "policies": {"nodes": {"B": {"q": 1}, "A": {"r": 1}}}}`, "supply: policies.nodes.A.r: unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Many runs: a check in map order would name a different key
			// from run to run.
			for range 50 {
				_, err := supply.DecodeScenario([]byte(tt.in))
				if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
					t.Fatalf("DecodeScenario = %v, want %q", err, tt.want)
				}
			}
		})
	}
}

func TestInfeasibleNamesConstraintSet(t *testing.T) {
	// The stock-sizing LP with no candidate that can help: only the mine may
	// hold stock, but the OEM cannot produce (capacity 0), so demand cannot
	// be met whatever the stock.
	net := supply.Network{
		Nodes:     []supply.Node{{ID: "M", CapacityPerPeriod: 10}, {ID: "O", DemandPerPeriod: 5}},
		Arcs:      []supply.Arc{{From: "M", To: "O", Ratio: 1}},
		Scenarios: []supply.Scenario{{Name: "M down", Disrupted: []supply.NodeID{"M"}, TTRPeriods: 2}},
	}
	_, err := supply.StrategicStock(&net, []supply.NodeID{"M"})
	var ie *supply.InfeasibleError
	if !errors.As(err, &ie) || len(ie.Sets) != 1 || ie.Sets[0] != "flow balance" {
		t.Fatalf("StrategicStock = %v, want an InfeasibleError naming \"flow balance\"", err)
	}
}

func FuzzDecodeNetwork(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/supply/network*.json")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"nodes": [{"id": "A", "capacity_per_period": 1}], "arcs": [{"from": "A", "to": "A", "ratio": 1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		net, err := supply.DecodeNetwork(data)
		if err != nil {
			var fe *supply.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a FieldError", err)
			}
			return
		}
		if len(net.Nodes) <= 6 && len(net.Arcs) <= 10 && len(net.Scenarios) <= 3 {
			if _, err := supply.Stress(t.Context(), net, &supply.StressOptions{Workers: 1}); err != nil {
				var ie *supply.InfeasibleError
				if errors.As(err, &ie) {
					t.Fatalf("stress LP infeasible on a valid network: %v", err)
				}
			}
		}
	})
}

func FuzzDecodeScenario(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/supply/scenario*.json")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := supply.DecodeScenario(data)
		if err != nil {
			var fe *supply.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a FieldError", err)
			}
			return
		}
		if sc.Days <= 400 && len(sc.Network.Nodes) <= 12 {
			if _, err := supply.Run(t.Context(), sc, rand.New(rand.NewPCG(1, 1))); err != nil {
				t.Fatal(err)
			}
		}
	})
}
