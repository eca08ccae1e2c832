package world_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/supply"
	"lodestone/world"
)

func load(t testing.TB) *world.World {
	t.Helper()
	w, err := world.Load()
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	return w
}

// TestEveryNumberHasSource walks the raw JSON of the embedded data and fails
// on any number that is not inside an object with a non-empty "source".
func TestEveryNumberHasSource(t *testing.T) {
	var doc any
	if err := json.Unmarshal(world.Data(), &doc); err != nil {
		t.Fatal(err)
	}
	count := 0
	var walk func(v any, path string, sourced bool)
	walk = func(v any, path string, sourced bool) {
		switch x := v.(type) {
		case map[string]any:
			src, _ := x["source"].(string)
			here := strings.TrimSpace(src) != ""
			for k, c := range x {
				walk(c, path+"."+k, here)
			}
		case []any:
			for i, c := range x {
				walk(c, fmt.Sprintf("%s[%d]", path, i), false)
			}
		case float64:
			count++
			if !sourced {
				t.Errorf("%s = %v has no source", path, x)
			}
		}
	}
	walk(doc, "$", false)
	if count < 50 {
		t.Errorf("walked %d numbers, want the whole data set (>= 50)", count)
	}
}

// TestDerivedValues recomputes every derived node figure from the sourced
// figures it is derived from, as its formula says.
func TestDerivedValues(t *testing.T) {
	w := load(t)
	capOf := func(id string) float64 { return w.Node(supply.NodeID(id)).Capacity() }
	share := map[string]float64{}
	for _, s := range w.PublishedShares {
		share[s.Stage] = s.ChinaShare.Value
	}
	worldMine := w.WorldMineProductionTonnesREO.Value
	reContent := w.Material("RE-metal").ConsumptionRatio.Value
	worldMagnet := capOf("magnet-cn") / share["magnet"]
	// China magnet exports 2024: Jan-Jul 2025 27,897 t at -15% y/y, annualised.
	exports := 27897 / 0.85 * 12 / 7
	rowDemand := exports + worldMagnet - capOf("magnet-cn")
	worldDemand := 93000 / reContent
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"sep-cn capacity", capOf("sep-cn"), share["separation"] * worldMine},
		{"sep-my-lynas capacity", capOf("sep-my-lynas"), 0.05 * worldMine},
		{"sep-row capacity", capOf("sep-row"), (1 - share["separation"] - 0.05) * worldMine},
		{"metal-cn capacity", capOf("metal-cn"), share["metal"] * worldMagnet * reContent},
		{"metal-row capacity", capOf("metal-row"), (1 - share["metal"]) * worldMagnet * reContent},
		{"magnet-row capacity", capOf("magnet-row"), worldMagnet - capOf("magnet-cn") - capOf("magnet-vn-shin-etsu")},
		{"oem-row demand", w.Node("oem-row").Demand(), rowDemand},
		{"oem-cn demand", w.Node("oem-cn").Demand(), worldDemand - rowDemand},
		{"oem-cn inventory", w.Node("oem-cn").InventoryTonnes.Value, 35 * w.Node("oem-cn").Demand() / 365},
		{"oem-row inventory", w.Node("oem-row").InventoryTonnes.Value, 35 * w.Node("oem-row").Demand() / 365},
		{"mine share", share["mine"], 270000 / worldMine},
		{"separated REO per t metal", w.Material("REO-separated").ConsumptionRatio.Value, 1 / (w.OxideMetalFraction["NdPr"].Value * (1 - w.OxideMetalLoss.Value))},
		{"DLA cover days", w.Node("stockpile-us-dla").TargetCoverDays.Value, 6 * 365.0 / 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if math.Abs(tt.got-tt.want) > 1e-6*math.Abs(tt.want)+1e-4 {
				t.Errorf("%s = %.6f, want %.6f (from its formula)", tt.name, tt.got, tt.want)
			}
		})
	}
	for _, g := range w.Grades {
		for k, q := range g.Composition {
			if q.Derived && !strings.Contains(q.Formula, "mid-point") && k != "NdPr" && k != "Fe" {
				t.Errorf("grade %s %s: unexpected derived value %v", g.Code, k, q)
			}
		}
	}
}

// TestStageShares checks that the world reproduces China's published share
// of each stage within 2 percentage points. The published figures are: mining
// ≈69% (USGS MCS 2025, 2024, derived 270/390), separation 92% (IEA GCMO 2024,
// 2023), metal ~90% (DOE 2022 deep dive), magnets ~92% (DOE 2022 / Argonne).
func TestStageShares(t *testing.T) {
	w := load(t)
	published := map[string]struct {
		share  float64
		source string
	}{
		"mine":       {0.69, "USGS"},
		"separation": {0.92, "IEA"},
		"metal":      {0.90, "DOE"},
		"magnet":     {0.92, "DOE"},
	}
	got := w.StageShares()
	var stages []string
	for _, s := range got {
		stages = append(stages, s.Stage)
		p, ok := published[s.Stage]
		if !ok {
			t.Errorf("unexpected stage %q", s.Stage)
			continue
		}
		if s.Published == nil {
			t.Errorf("stage %s: no published share in the data", s.Stage)
			continue
		}
		if math.Abs(s.Published.Value-p.share) > 0.005 || !strings.Contains(s.Published.Source, p.source) {
			t.Errorf("stage %s: published share in the data = %v (%s), want %v from %s", s.Stage, s.Published.Value, s.Published.Source, p.share, p.source)
		}
		if d := math.Abs(s.Share - p.share); d > 0.02 {
			t.Errorf("stage %s: China share = %.4f, published %.2f (%s): off by %.1f pp, want <= 2", s.Stage, s.Share, p.share, p.source, 100*d)
		}
	}
	if diff := cmp.Diff([]string{"mine", "separation", "metal", "magnet"}, stages); diff != "" {
		t.Errorf("StageShares stages (-want +got):\n%s", diff)
	}
	if !got[0].Independent {
		t.Errorf("mining share should be independent of the published share (sum of USGS country figures)")
	}
}

// TestDecodeErrors checks that bad data is refused with an error naming the
// field.
func TestDecodeErrors(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(world.Data(), &doc); err != nil {
		t.Fatal(err)
	}
	sepCN := nodeIndex(t, doc, "sep-cn")
	tests := []struct {
		name      string
		edit      func(m map[string]any)
		wantField string
	}{
		{"number without source", func(m map[string]any) {
			q(m, "nodes", 0, "capacity_tonnes_per_year")["source"] = ""
		}, "nodes[0].capacity_tonnes_per_year.source"},
		{"derived without formula", func(m map[string]any) {
			delete(q(m, "nodes", nodeIndex(t, m, "sep-cn"), "capacity_tonnes_per_year"), "formula")
		}, fmt.Sprintf("nodes[%d].capacity_tonnes_per_year.formula", sepCN)},
		{"assumption without reason", func(m map[string]any) {
			delete(q(m, "nodes", 0, "capacity_tonnes_per_year"), "why")
		}, "nodes[0].capacity_tonnes_per_year.why"},
		{"unknown citation key", func(m map[string]any) {
			q(m, "nodes", 1, "capacity_tonnes_per_year")["source"] = "USGS [S999]"
		}, "nodes[1].capacity_tonnes_per_year.source"},
		{"source citing no key", func(m map[string]any) {
			q(m, "nodes", 1, "capacity_tonnes_per_year")["source"] = "USGS MCS 2025, somewhere"
		}, "nodes[1].capacity_tonnes_per_year.source"},
		{"malformed citation", func(m map[string]any) {
			q(m, "nodes", 1, "capacity_tonnes_per_year")["source"] = "USGS [S6 p. 145]"
		}, "nodes[1].capacity_tonnes_per_year.source"},
		{"unknown key in an arc's source", func(m map[string]any) {
			m["arcs"].([]any)[0].(map[string]any)["source"] = "[NOTE] c.10 and [NOPE]"
		}, "arcs[0].source"},
		{"negative capacity", func(m map[string]any) {
			q(m, "nodes", 2, "capacity_tonnes_per_year")["value"] = -1.0
		}, "nodes[2].capacity_tonnes_per_year.value"},
		{"arc to unknown node", func(m map[string]any) {
			m["arcs"].([]any)[3].(map[string]any)["to"] = "nowhere"
		}, "arcs[3].to"},
		{"arc with wrong material", func(m map[string]any) {
			m["arcs"].([]any)[0].(map[string]any)["material"] = "RE-metal"
		}, "arcs[0].material"},
		{"assumed route without reason", func(m map[string]any) {
			delete(m["arcs"].([]any)[4].(map[string]any), "why")
		}, "arcs[4].why"},
		{"unknown stage", func(m map[string]any) {
			m["nodes"].([]any)[0].(map[string]any)["stage"] = "smelter"
		}, "nodes[0].stage"},
		{"duplicate node", func(m map[string]any) {
			m["nodes"].([]any)[1].(map[string]any)["id"] = "mine-cn"
		}, "nodes[1].id"},
		{"grade does not sum to 1", func(m map[string]any) {
			m["grades"].([]any)[0].(map[string]any)["composition"].(map[string]any)["Fe"].(map[string]any)["value"] = 0.5
		}, "grades[0].composition"},
		{"unknown field", func(m map[string]any) {
			m["nodes"].([]any)[0].(map[string]any)["capacity_tpa"] = 1.0
		}, "capacity_tpa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(world.Data(), &m); err != nil {
				t.Fatal(err)
			}
			tt.edit(m)
			data, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = world.Decode(data)
			if err == nil || !strings.Contains(err.Error(), tt.wantField) {
				t.Fatalf("Decode = %v, want an error naming %s", err, tt.wantField)
			}
			if !strings.HasPrefix(err.Error(), "world: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			var fe *world.FieldError
			if tt.wantField != "capacity_tpa" && !errors.As(err, &fe) {
				t.Errorf("error %T is not a *world.FieldError", err)
			}
		})
	}
}

// nodeIndex returns the index of the node with the given id in the
// decoded data m.
func nodeIndex(t *testing.T, m map[string]any, id string) int {
	t.Helper()
	for i, n := range m["nodes"].([]any) {
		if n.(map[string]any)["id"] == id {
			return i
		}
	}
	t.Fatalf("no node %s in the data", id)
	return -1
}

// q returns the object m[list][i][key].
func q(m map[string]any, list string, i int, key string) map[string]any {
	return m[list].([]any)[i].(map[string]any)[key].(map[string]any)
}

func FuzzDecode(f *testing.F) {
	f.Add(world.Data())
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"name":"x","nodes":[{"id":"a","stage":"mine","country":"CN","output":"m"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := world.Decode(data)
		if err != nil {
			return
		}
		// A valid world converts to a valid network and its shares are in [0, 1].
		if _, err := w.Network(nil); err != nil {
			var fe *world.FieldError
			if !errors.As(err, &fe) && !strings.Contains(err.Error(), "world: network") {
				t.Errorf("Network() = %v", err)
			}
		}
		for _, s := range w.StageShares() {
			if s.Share < 0 || s.Share > 1 || math.IsNaN(s.Share) {
				t.Errorf("share %v out of range", s)
			}
		}
	})
}
