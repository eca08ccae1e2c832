package supply_test

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/supply"
)

// jsonFields lists the JSON names of a struct type's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// TestSchemasMatchTypes checks that the JSON Schemas of docs/formats list
// exactly the fields the decoder accepts, object by object.
func TestSchemasMatchTypes(t *testing.T) {
	load := func(name string) map[string]any {
		b, err := os.ReadFile("../docs/formats/" + name)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return m
	}
	props := func(obj any) []string {
		p := obj.(map[string]any)["properties"].(map[string]any)
		var out []string
		for k := range p {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	net := load("supply-network.schema.json")
	sc := load("supply-scenario.schema.json")
	defs := func(m map[string]any, k string) any { return m["$defs"].(map[string]any)[k] }
	tests := []struct {
		name   string
		schema any
		typ    any
	}{
		{"network", net, supply.Network{}},
		{"node", defs(net, "node"), supply.Node{}},
		{"arc", defs(net, "arc"), supply.Arc{}},
		{"scenario", defs(net, "scenario"), supply.Scenario{}},
		{"sim scenario", sc, supply.SimScenario{}},
		{"shock", defs(sc, "shock"), supply.Shock{}},
		{"control", defs(sc, "control"), supply.Control{}},
		{"policy", defs(sc, "policy"), supply.Policy{}},
		{"policies", defs(sc, "policies"), supply.Policies{}},
		{"qualification", defs(sc, "qualification"), supply.Qualification{}},
		{"random shock", defs(sc, "random_shock"), supply.RandomShock{}},
		{"build", defs(sc, "build"), supply.Build{}},
		{"substitution", defs(sc, "substitution"), supply.Substitution{}},
		{"price", defs(sc, "price"), supply.Price{}},
		{"costs", defs(sc, "costs"), supply.Costs{}},
		{"node costs", defs(sc, "node_costs"), supply.NodeCosts{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(jsonFields(reflect.TypeOf(tt.typ)), props(tt.schema)); d != "" {
				t.Errorf("schema properties differ from the Go type (-type +schema):\n%s", d)
			}
		})
	}
}
