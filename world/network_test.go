package world_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/supply"
	"lodestone/world"
)

func TestNetwork(t *testing.T) {
	w := load(t)
	tests := []struct {
		name string
		opts *world.NetworkOptions
		per  float64
	}{
		{"per day", nil, 365},
		{"per year", &world.NetworkOptions{PerYear: true}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net, err := w.Network(tt.opts)
			if err != nil {
				t.Fatalf("Network() = %v", err)
			}
			// It passes supply's own decoder, as a file would.
			if err := net.Validate(); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			if got, want := len(net.Nodes), len(w.Nodes); got != want {
				t.Errorf("len(nodes) = %d, want %d", got, want)
			}
			if got, want := len(net.Arcs), len(w.Arcs); got != want {
				t.Errorf("len(arcs) = %d, want %d", got, want)
			}
			for _, n := range net.Nodes {
				wn := w.Node(n.ID)
				want := wn.Capacity() / tt.per
				if wn.Stage == supply.StageOEM {
					want = wn.Demand() / tt.per
				}
				if math.Abs(n.CapacityPerPeriod-want) > 1e-9*want {
					t.Errorf("%s capacity_per_period = %v, want %v", n.ID, n.CapacityPerPeriod, want)
				}
				if math.Abs(n.DemandPerPeriod-wn.Demand()/tt.per) > 1e-9 {
					t.Errorf("%s demand_per_period = %v, want %v", n.ID, n.DemandPerPeriod, wn.Demand()/tt.per)
				}
				if n.Source == "" && wn.Stage != supply.StageStockpile {
					t.Errorf("%s has no source", n.ID)
				}
			}
			for _, a := range net.Arcs {
				if a.Source == "" {
					t.Errorf("arc %s->%s has no source", a.From, a.To)
				}
			}
		})
	}
}

func TestNetworkStockpile(t *testing.T) {
	w := load(t)
	net, err := w.Network(&world.NetworkOptions{StockpileTonnes: map[supply.NodeID]float64{"stockpile-us-dla": 1000}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range net.Nodes {
		if n.ID == "stockpile-us-dla" && n.Inventory != 1000 {
			t.Errorf("stockpile inventory = %v, want 1000", n.Inventory)
		}
	}
	if _, err := w.Network(&world.NetworkOptions{StockpileTonnes: map[supply.NodeID]float64{"mine-cn": 1}}); err == nil || !strings.Contains(err.Error(), "stockpile_tonnes[mine-cn]") {
		t.Errorf("Network(stockpile on a mine) = %v, want an error naming stockpile_tonnes[mine-cn]", err)
	}
}

// syntheticSplit is a SYNTHETIC REO split (test input only, claims nothing
// about any deposit): every mine 20% NdPr, 1% Dy, 0.2% Tb oxide.
func syntheticSplit(w *world.World) map[supply.NodeID]map[string]float64 {
	s := map[supply.NodeID]map[string]float64{}
	for _, n := range w.Nodes {
		if n.Stage == supply.StageMine {
			s[n.ID] = map[string]float64{"NdPr": 0.20, "Dy": 0.01, "Tb": 0.002}
		}
	}
	return s
}

func TestElementLevelNeedsSplit(t *testing.T) {
	w := load(t)
	split := syntheticSplit(w)
	delete(split["mine-mm"], "Dy")
	tests := []struct {
		name      string
		opts      world.NetworkOptions
		wantField string
	}{
		{"no split", world.NetworkOptions{Level: world.LevelElement}, "reo_split[mine-cn]"},
		{"one element missing", world.NetworkOptions{Level: world.LevelElement, REOSplit: split}, "reo_split[mine-mm].Dy"},
		{"unknown grade", world.NetworkOptions{Level: world.LevelElement, Grade: "N52"}, "grade"},
		{"unknown level", world.NetworkOptions{Level: "isotope"}, "level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.Network(&tt.opts)
			var fe *world.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.wantField {
				t.Fatalf("Network() = %v, want a *FieldError for %s", err, tt.wantField)
			}
		})
	}
}

func TestElementLevel(t *testing.T) {
	w := load(t)
	for _, g := range w.Grades {
		t.Run(g.Code, func(t *testing.T) {
			net, err := w.Network(&world.NetworkOptions{Level: world.LevelElement, REOSplit: syntheticSplit(w), Grade: g.Code})
			if err != nil {
				t.Fatalf("Network(element) = %v", err)
			}
			// Magnets take each magnet rare earth of the grade at its mass
			// fraction (the bill of materials).
			got := map[string]float64{}
			for _, a := range net.Arcs {
				if a.To == "magnet-cn" {
					got[strings.SplitN(a.Material, "-", 2)[0]] = a.Ratio
				}
			}
			want := map[string]float64{}
			for _, e := range []string{"NdPr", "Dy", "Tb"} {
				if v := g.Composition[e].Value; v > 0 {
					want[e] = v
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("magnet-cn bill of materials (-want +got):\n%s", diff)
			}
			// A few named scenarios (each disrupts all element nodes of one
			// world node) keep the test fast under -race.
			var keep []supply.Scenario
			for _, s := range net.Scenarios {
				if s.Name == "mine-cn" || s.Name == "sep-cn" || s.Name == "magnet-cn" {
					keep = append(keep, s)
				}
			}
			if len(keep) != 3 || len(keep[0].Disrupted) != len(want) {
				t.Fatalf("element scenarios %v, want mine-cn, sep-cn, magnet-cn with one node per magnet rare earth", keep)
			}
			net.Scenarios = keep
			res, err := supply.Stress(t.Context(), net, nil)
			if err != nil {
				t.Fatalf("Stress(element) = %v", err)
			}
			if len(res) != len(keep) {
				t.Errorf("Stress returned %d results for %d scenarios", len(res), len(keep))
			}
			// The April 2025 regime reaches the Dy and Tb flows.
			s, err := w.Scenario(world.ScenarioApril2025, &world.ScenarioOptions{Days: 365,
				Network: world.NetworkOptions{Level: world.LevelElement, REOSplit: syntheticSplit(w), Grade: g.Code}})
			if err != nil {
				t.Fatalf("Scenario(element) = %v", err)
			}
			r, err := supply.Run(t.Context(), s, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatalf("Run(element) = %v", err)
			}
			if k := r.Nodes["oem-row"]; k.FirstStockout == nil {
				t.Errorf("element level, april-2025: oem-row never short; want Dy/Tb licences to bite")
			}
		})
	}
}

// TestStressEveryNode runs the node-by-node stress test of the default
// world through the supply package.
func TestStressEveryNode(t *testing.T) {
	w := load(t)
	net, err := w.Network(nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := supply.Stress(t.Context(), net, nil)
	if err != nil {
		t.Fatalf("Stress = %v", err)
	}
	if len(res) != len(net.Nodes) {
		t.Fatalf("Stress returned %d results, want one per node (%d)", len(res), len(net.Nodes))
	}
	byName := map[string]supply.StressResult{}
	for _, r := range res {
		byName[r.Name] = r
	}
	// Properties of the data: losing a small mine outside China changes
	// nothing; losing China's magnet stage leaves only the OEMs' 35 days.
	if r := byName["mine-br"]; !r.TTSCapped {
		t.Errorf("mine-br: TTS = %v, want capped (survives)", r.TTS)
	}
	if r := byName["magnet-cn"]; math.Abs(r.TTS-35) > 1e-3 {
		t.Errorf("magnet-cn: TTS = %v days, want the OEM cover of 35", r.TTS)
	}
	// With a TTR of 60 days (synthetic, beyond the OEM cover) China's magnet
	// stage is the top exposure.
	net, err = w.Network(&world.NetworkOptions{DefaultTTRPeriods: 60})
	if err != nil {
		t.Fatal(err)
	}
	res, err = supply.Stress(t.Context(), net, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Name == "magnet-cn" && (r.REI != 1 || !r.Exposed) {
			t.Errorf("magnet-cn at TTR 60: REI = %v exposed = %v, want 1 and true", r.REI, r.Exposed)
		}
	}
}

func BenchmarkStressDefaultWorld(b *testing.B) {
	w := load(b)
	net, err := w.Network(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := supply.Stress(context.Background(), net, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestScenarios runs five simulated years of the default world per built-in
// scenario: the baseline meets all demand; under the 2025 licence regimes
// magnet demand outside China loses supply (China's own demand is not
// affected), first after the OEMs' 35 days of cover. How much is lost
// depends on the licence model of the supply engine (approval probability,
// validity), so only the direction is asserted.
func TestScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("five-year simulations")
	}
	w := load(t)
	fill := map[string]float64{}
	for _, sc := range world.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			s, err := w.Scenario(sc.Name, nil)
			if err != nil {
				t.Fatalf("Scenario(%s) = %v", sc.Name, err)
			}
			if s.Days != 1826 || s.Start != "2025-01-01" {
				t.Errorf("Scenario(%s) start %s days %d, want 2025-01-01 and 1826", sc.Name, s.Start, s.Days)
			}
			r, err := supply.Run(t.Context(), s, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatalf("Run(%s) = %v", sc.Name, err)
			}
			if k := r.Nodes["oem-cn"]; k.FillRate < 0.999 {
				t.Errorf("%s: oem-cn fill rate = %v, want ~1", sc.Name, k.FillRate)
			}
			k := r.Nodes["oem-row"]
			fill[sc.Name] = k.FillRate
			if sc.Name == world.ScenarioBaseline {
				if k.FillRate < 0.999 || k.FirstStockout != nil {
					t.Errorf("baseline: oem-row fill rate %v first stockout %v, want 1 and none", k.FillRate, k.FirstStockout)
				}
				return
			}
			if k.FirstStockout == nil || *k.FirstStockout < "2025-05-09" {
				t.Errorf("%s: oem-row first stockout %v, want after 4 Apr 2025 + 35 days", sc.Name, k.FirstStockout)
			}
			if k.FillRate >= fill[world.ScenarioBaseline] || k.StockoutDays == 0 {
				t.Errorf("%s: oem-row fill rate %v, %d stockout days; want below the baseline's %v", sc.Name, k.FillRate, k.StockoutDays, fill[world.ScenarioBaseline])
			}
		})
	}
	if !(fill[world.ScenarioOctober25] <= fill[world.ScenarioApril2025]) {
		t.Errorf("october-2025 fill %v > april-2025 fill %v; more controls should not help", fill[world.ScenarioOctober25], fill[world.ScenarioApril2025])
	}
}

func TestScenarioErrors(t *testing.T) {
	w := load(t)
	tests := []struct {
		name string
		sc   string
		opts *world.ScenarioOptions
		want string
	}{
		{"unknown", "2010-quota", nil, "unknown scenario"},
		{"bad start", world.ScenarioBaseline, &world.ScenarioOptions{Start: "April"}, "start"},
		{"per year", world.ScenarioBaseline, &world.ScenarioOptions{Network: world.NetworkOptions{PerYear: true}}, "per_year"},
		{"element without split", world.ScenarioApril2025, &world.ScenarioOptions{Network: world.NetworkOptions{Level: world.LevelElement}}, "reo_split[mine-cn]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := w.Scenario(tt.sc, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Scenario(%s) = %v, want an error with %q", tt.sc, err, tt.want)
			}
		})
	}
}

func BenchmarkRunDefaultWorld5Years(b *testing.B) {
	w := load(b)
	s, err := w.Scenario(world.ScenarioApril2025, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := supply.Run(context.Background(), s, rand.New(rand.NewPCG(1, 2))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMonteCarloDefaultWorld runs the Monte Carlo study of the issue's
// target (10,000 runs of the default world over five years of days under
// the April 2025 regime, whose licence decisions are random); the 10,000-run
// case is skipped with -short.
func BenchmarkMonteCarloDefaultWorld(b *testing.B) {
	w := load(b)
	s, err := w.Scenario(world.ScenarioApril2025, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, runs := range []int{100, 10000} {
		b.Run(fmt.Sprintf("runs=%d", runs), func(b *testing.B) {
			if runs > 100 && testing.Short() {
				b.Skip("10,000 runs in -short mode")
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := supply.MonteCarlo(context.Background(), s, supply.MCOptions{Runs: runs, Seed: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The node-by-node scenarios' default TTR is supply.DefaultTTR days in the
// network's own periods: 144 per-day periods, or 144/365 of a year.
func TestElementScenarioTTRInPeriods(t *testing.T) {
	w, err := world.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, perYear := range []bool{false, true} {
		net, err := w.Network(&world.NetworkOptions{Level: world.LevelElement, REOSplit: syntheticSplit(w), PerYear: perYear})
		if err != nil {
			t.Fatal(err)
		}
		want := float64(supply.DefaultTTR)
		if perYear {
			want /= 365
		}
		if len(net.Scenarios) == 0 {
			t.Fatal("no scenarios")
		}
		for _, sc := range net.Scenarios {
			if math.Abs(sc.TTRPeriods-want) > 1e-12 {
				t.Fatalf("perYear=%v: scenario %s TTR %g periods, want %g", perYear, sc.Name, sc.TTRPeriods, want)
			}
		}
	}
}
