package world_test

import (
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lodestone/models"
	"lodestone/supply"
	"lodestone/twin"
	"lodestone/world"
)

// TestNetworkFromTwinsRoundTrip checks that the world's twins give back
// the world's network (but for the free-text sources) and that a run of
// every built-in scenario on either gives the same KPIs, bit for bit.
func TestNetworkFromTwinsRoundTrip(t *testing.T) {
	w, err := world.Load()
	if err != nil {
		t.Fatal(err)
	}
	twins, rels := w.Twins()
	g, err := world.NetworkFromTwins(twins, rels, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := w.Network(nil)
	if err != nil {
		t.Fatal(err)
	}
	world.SortNetwork(want)
	// The order of the twins does not matter: a store lists them by id.
	rev := slices.Clone(twins)
	slices.Reverse(rev)
	revRels := slices.Clone(rels)
	slices.Reverse(revRels)
	g2, err := world.NetworkFromTwins(rev, revRels, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(g.Network, g2.Network); diff != "" {
		t.Errorf("NetworkFromTwins depends on the order of the twins (-given +reversed):\n%s", diff)
	}
	ignore := cmp.Options{
		cmpopts.IgnoreFields(supply.Network{}, "Description"),
		cmpopts.IgnoreFields(supply.Node{}, "Source"),
		cmpopts.IgnoreFields(supply.Arc{}, "Source"),
	}
	if diff := cmp.Diff(want, g.Network, ignore); diff != "" {
		t.Errorf("NetworkFromTwins(world.Twins()) differs from World.Network (-want +got):\n%s", diff)
	}
	if len(g.Process) != 0 {
		t.Errorf("Process = %v, want none (the world has no process-twin results)", g.Process)
	}
	for _, info := range world.Scenarios() {
		t.Run(info.Name, func(t *testing.T) {
			if testing.Short() && info.Name != world.ScenarioApril2025 {
				t.Skip("short: one scenario")
			}
			sc, err := w.Scenario(info.Name, nil)
			if err != nil {
				t.Fatal(err)
			}
			world.SortNetwork(&sc.Network)
			gs := *sc
			gs.Network = *g.Network
			r1, err := supply.Run(t.Context(), sc, rand.New(rand.NewPCG(7, 0)))
			if err != nil {
				t.Fatal(err)
			}
			r2, err := supply.Run(t.Context(), &gs, rand.New(rand.NewPCG(7, 0)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(r1, r2); diff != "" {
				t.Errorf("KPIs of the world's network vs the twins' (-world +twins):\n%s", diff)
			}
		})
	}
}

// setProps returns a copy of the twins with props merged into twin id.
func setProps(twins []twin.Twin, id twin.ID, props map[string]any) []twin.Twin {
	out := make([]twin.Twin, len(twins))
	for i, tw := range twins {
		out[i] = tw
		if tw.ID != id {
			continue
		}
		p := map[string]any{}
		for k, v := range tw.Properties {
			p[k] = v
		}
		for k, v := range props {
			p[k] = v
		}
		out[i].Properties = p
	}
	return out
}

func node(n *supply.Network, id supply.NodeID) supply.Node {
	for _, x := range n.Nodes {
		if x.ID == id {
			return x
		}
	}
	return supply.Node{}
}

// TestNetworkFromTwinsProcess checks that a separation plant takes its
// capacity and recovery from process-twin results, with provenance, and
// keeps its own figures when the run did not converge.
func TestNetworkFromTwinsProcess(t *testing.T) {
	w, err := world.Load()
	if err != nil {
		t.Fatal(err)
	}
	twins, rels := w.Twins()
	base, err := world.NetworkFromTwins(twins, rels, &world.GraphOptions{PerYear: true})
	if err != nil {
		t.Fatal(err)
	}
	result := map[string]any{
		"throughputCapacityTonnesReoPerYear": 8760.0,
		"recovery":                           map[string]any{"organic_Nd": 0.99, "aqueous_Nd": 0.01, "aqueous_La": 0.97, "organic_La": 0.03},
		"converged":                          true,
		"modelVersion":                       "lodestone/process/sx steady-state v1",
		"inputHash":                          "sha256:abc",
	}
	tests := []struct {
		name      string
		props     map[string]any
		opts      world.GraphOptions
		capacity  float64 // t/yr of sep-my-lynas
		ratioDiv  float64 // its input ratios are the world's divided by this
		link      *world.ProcessLink
		wantField string
		unlinked  bool // no hasUnit relationship to the cascade
	}{
		{
			name: "used", props: result, capacity: 8760, ratioDiv: 0.98,
			link: &world.ProcessLink{Node: "sep-my-lynas", Used: true, FacilityCapacityTonnesPerYear: 19500, CapacityTonnesPerYear: 8760,
				Recovery: 0.98, RecoveryBasis: "mean over La, Nd of each element's best recovery to a product", Converged: true, Cascade: "cascade-lynas",
				ModelVersion: "lodestone/process/sx steady-state v1", InputHash: "sha256:abc"},
		},
		{
			name: "elements", props: result, opts: world.GraphOptions{RecoveryElements: []string{"Nd"}}, capacity: 8760, ratioDiv: 0.99,
			link: &world.ProcessLink{Node: "sep-my-lynas", Used: true, FacilityCapacityTonnesPerYear: 19500, CapacityTonnesPerYear: 8760,
				Recovery: 0.99, RecoveryBasis: "mean over Nd of each element's best recovery to a product", Converged: true, Cascade: "cascade-lynas",
				ModelVersion: "lodestone/process/sx steady-state v1", InputHash: "sha256:abc"},
		},
		{
			name: "ignored", props: result, opts: world.GraphOptions{IgnoreProcess: true}, capacity: 19500, ratioDiv: 1,
		},
		{
			name: "not converged", props: map[string]any{"throughputCapacityTonnesReoPerYear": 100.0, "converged": false, "inputHash": "sha256:x"},
			capacity: 19500, ratioDiv: 1,
			link: &world.ProcessLink{Node: "sep-my-lynas", Why: "the process-twin run did not converge; the facility figures are kept",
				FacilityCapacityTonnesPerYear: 19500, CapacityTonnesPerYear: 100, Recovery: 1, RecoveryBasis: "no recovery in the result: 1", InputHash: "sha256:x"},
		},
		{
			name: "link removed", props: result, unlinked: true, capacity: 19500, ratioDiv: 1,
			link: &world.ProcessLink{Node: "sep-my-lynas", FacilityCapacityTonnesPerYear: 19500, CapacityTonnesPerYear: 8760,
				Why:      "twins[sep-my-lynas].inputHash: no hasUnit relationship to the process twin that produced the result (the link was removed or never made); the nameplate is kept",
				Recovery: 0.98, RecoveryBasis: "mean over La, Nd of each element's best recovery to a product", Converged: true,
				ModelVersion: "lodestone/process/sx steady-state v1", InputHash: "sha256:abc"},
		},
		{
			name: "bench scale", props: withProp(result, "throughputCapacityTonnesReoPerYear", 2.95), capacity: 19500, ratioDiv: 1,
			link: &world.ProcessLink{Node: "sep-my-lynas", FacilityCapacityTonnesPerYear: 19500, CapacityTonnesPerYear: 2.95, Cascade: "cascade-lynas",
				Why:      "twins[sep-my-lynas].throughputCapacityTonnesReoPerYear: 2.95 t/yr is 0.000151 times the nameplate capacityTonnesPerYear 1.95e+04 t/yr, outside the factor 5 allowed (a bench-scale result needs an explicit scale-up); the nameplate is kept",
				Recovery: 0.98, RecoveryBasis: "mean over La, Nd of each element's best recovery to a product", Converged: true,
				ModelVersion: "lodestone/process/sx steady-state v1", InputHash: "sha256:abc"},
		},
		{
			name: "wide band", props: withProp(result, "throughputCapacityTonnesReoPerYear", 2.95), opts: world.GraphOptions{MaxNameplateFactor: 1e5}, capacity: 2.95, ratioDiv: 0.98,
			link: &world.ProcessLink{Node: "sep-my-lynas", Used: true, FacilityCapacityTonnesPerYear: 19500, CapacityTonnesPerYear: 2.95, Cascade: "cascade-lynas",
				Recovery: 0.98, RecoveryBasis: "mean over La, Nd of each element's best recovery to a product", Converged: true,
				ModelVersion: "lodestone/process/sx steady-state v1", InputHash: "sha256:abc"},
		},
		{name: "bad factor", props: result, opts: world.GraphOptions{MaxNameplateFactor: 0.5}, wantField: "max_nameplate_factor"},
		{name: "bad throughput", props: map[string]any{"throughputCapacityTonnesReoPerYear": "lots"}, wantField: "twins[sep-my-lynas].throughputCapacityTonnesReoPerYear"},
		{name: "bad recovery", props: map[string]any{"throughputCapacityTonnesReoPerYear": 1.0, "recovery": map[string]any{"organic_Nd": 2.0}}, wantField: "twins[sep-my-lynas].recovery.organic_Nd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.PerYear = true
			tw := append(setProps(twins, "sep-my-lynas", tt.props), twin.Twin{ID: "cascade-lynas", Metadata: twin.Metadata{Model: "dtmi:lodestone:SXCascade;1"}, Properties: map[string]any{"inputHash": "sha256:abc"}})
			rs := rels
			if !tt.unlinked {
				rs = append(slices.Clone(rels), twin.Relationship{ID: "unit", SourceID: "sep-my-lynas", TargetID: "cascade-lynas", Name: "hasUnit"})
			}
			g, err := world.NetworkFromTwins(tw, rs, &o)
			if tt.wantField != "" {
				var fe *world.FieldError
				if !errors.As(err, &fe) || fe.Field != tt.wantField {
					t.Fatalf("NetworkFromTwins error = %v, want a FieldError on %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := node(g.Network, "sep-my-lynas").CapacityPerPeriod; got != tt.capacity {
				t.Errorf("capacity = %g, want %g", got, tt.capacity)
			}
			for i, a := range g.Network.Arcs {
				want := base.Network.Arcs[i].Ratio
				if a.To == "sep-my-lynas" {
					want /= tt.ratioDiv
				}
				if diff := a.Ratio - want; diff > 1e-12 || diff < -1e-12 {
					t.Errorf("arc %s->%s ratio = %g, want %g", a.From, a.To, a.Ratio, want)
				}
			}
			var got *world.ProcessLink
			if len(g.Process) == 1 {
				got = &g.Process[0]
			}
			if diff := cmp.Diff(tt.link, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("Process (-want +got):\n%s", diff)
			}
		})
	}
}

func withProp(m map[string]any, k string, v any) map[string]any {
	out := maps.Clone(m)
	out[k] = v
	return out
}

// TestNetworkFromTwinsErrors checks that bad twins and edges get an error
// naming the field.
func TestNetworkFromTwinsErrors(t *testing.T) {
	w, err := world.Load()
	if err != nil {
		t.Fatal(err)
	}
	twins, rels := w.Twins()
	feeds := -1
	for i, r := range rels {
		if r.Name == "feeds" {
			feeds = i
			break
		}
	}
	withEdge := func(props map[string]any) []twin.Relationship {
		out := append([]twin.Relationship(nil), rels...)
		out[feeds].Properties = props
		return out
	}
	id := rels[feeds].ID
	tests := []struct {
		name  string
		twins []twin.Twin
		rels  []twin.Relationship
		field string
	}{
		{"no ratio", twins, withEdge(map[string]any{"materialCode": "REO-concentrate"}), "relationships[" + id + "].ratio"},
		{"zero ratio", twins, withEdge(map[string]any{"ratio": 0.0}), "relationships[" + id + "].ratio"},
		{"bad lead time", twins, withEdge(map[string]any{"ratio": 1.0, "leadTimeDays": -3.0}), "relationships[" + id + "].leadTimeDays"},
		{"standby not a boolean", twins, withEdge(map[string]any{"ratio": 1.0, "standby": "yes"}), "relationships[" + id + "].standby"},
		{"negative capacity", setProps(twins, "mine-cn", map[string]any{"capacityTonnesPerYear": -1.0}), rels, "twins[mine-cn].capacityTonnesPerYear"},
		{"bad availability", setProps(twins, "mine-cn", map[string]any{"availability": 1.5}), rels, "twins[mine-cn].availability"},
		{"no facility", twins[:1], nil, "twins"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := world.NetworkFromTwins(tt.twins, tt.rels, nil)
			var fe *world.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("NetworkFromTwins error = %v, want a FieldError on %s", err, tt.field)
			}
		})
	}
}

// TestNetworkFromTwinsStandby: a feeds edge with standby true becomes a
// standby arc (it carries nothing until a rule puts it into service), one
// with false or none an arc in service, and nothing else of the network
// changes.
func TestNetworkFromTwinsStandby(t *testing.T) {
	w, err := world.Load()
	if err != nil {
		t.Fatal(err)
	}
	twins, rels := w.Twins()
	base, err := world.NetworkFromTwins(twins, rels, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, standby := range []bool{true, false} {
		out := append([]twin.Relationship(nil), rels...)
		var from, to supply.NodeID
		for i, r := range out {
			if r.Name == "feeds" {
				out[i].Properties = withProp(r.Properties, "standby", standby)
				from, to = supply.NodeID(r.SourceID), supply.NodeID(r.TargetID)
				break
			}
		}
		g, err := world.NetworkFromTwins(twins, out, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := *base.Network
		want.Arcs = slices.Clone(base.Network.Arcs)
		n := 0
		for i, a := range want.Arcs {
			if a.From == from && a.To == to {
				want.Arcs[i].Standby = standby
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d arcs %s -> %s in the network, want 1", n, from, to)
		}
		if diff := cmp.Diff(&want, g.Network); diff != "" {
			t.Errorf("standby %v: network (-want +got):\n%s", standby, diff)
		}
	}
}

func TestGraphScenario(t *testing.T) {
	w, err := world.Load()
	if err != nil {
		t.Fatal(err)
	}
	twins, rels := w.Twins()
	g, err := world.NetworkFromTwins(twins, rels, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		doc       string
		start     supply.Date
		days      int
		shocks    int
		wantField string
	}{
		{name: "empty", doc: "", start: "2025-01-01", days: 1826},
		{name: "dates", doc: `{"start":"2026-01-01","days":30}`, start: "2026-01-01", days: 30},
		{name: "shock", doc: `{"shocks":[{"node":"sep-cn","from":"2025-02-01","to":"2025-03-01","capacity_factor":0.5}]}`, start: "2025-01-01", days: 1826, shocks: 1},
		{name: "network", doc: `{"network":{"nodes":[]}}`, wantField: "network"},
		{name: "unknown node", doc: `{"shocks":[{"node":"nowhere","from":"2025-02-01","to":"2025-03-01"}]}`, wantField: "shocks[0].node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := world.GraphScenario([]byte(tt.doc), g.Network)
			if tt.wantField != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantField) {
					t.Fatalf("GraphScenario error = %v, want one naming %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sc.Start != tt.start || sc.Days != tt.days || len(sc.Shocks) != tt.shocks || len(sc.Network.Nodes) != len(g.Network.Nodes) {
				t.Errorf("GraphScenario = start %s days %d shocks %d nodes %d, want %s %d %d %d", sc.Start, sc.Days, len(sc.Shocks), len(sc.Network.Nodes), tt.start, tt.days, tt.shocks, len(g.Network.Nodes))
			}
		})
	}
}

// FuzzGraphScenario checks that any scenario document either decodes into
// a valid scenario on the graph's network or returns an error, never a
// panic.
func FuzzGraphScenario(f *testing.F) {
	w, err := world.Load()
	if err != nil {
		f.Fatal(err)
	}
	twins, rels := w.Twins()
	g, err := world.NetworkFromTwins(twins, rels, nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "{}", `{"start":"2025-01-01","days":3}`, `{"network":{}}`, `{"shocks":[{"node":"sep-cn","from":"2025-01-01","to":"2025-01-09","capacity_factor":0.5}]}`, `{"days":-1}`, `{"start":"x"}`, `[1]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		sc, err := world.GraphScenario(doc, g.Network)
		if err != nil {
			return
		}
		if err := sc.Validate(); err != nil {
			t.Errorf("GraphScenario(%q) returned an invalid scenario: %v", doc, err)
		}
	})
}

func BenchmarkNetworkFromTwins(b *testing.B) {
	w, err := world.Load()
	if err != nil {
		b.Fatal(err)
	}
	twins, rels := w.Twins()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := world.NetworkFromTwins(twins, rels, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// A facility in no feeds edge (the demo's reference separation plant) is
// left out of the network and reported; a lone OEM stays, all demand lost.
func TestNetworkFromTwinsDropsUnconnected(t *testing.T) {
	w, err := world.Load()
	if err != nil {
		t.Fatal(err)
	}
	twins, rels := w.Twins()
	want, err := world.NetworkFromTwins(twins, rels, nil)
	if err != nil {
		t.Fatal(err)
	}
	lone := []twin.Twin{
		{ID: "ref-sep", Metadata: twin.Metadata{Model: models.SeparationPlant}, Properties: map[string]any{"capacityTonnesPerYear": 10908.0}},
		{ID: "oem-alone", Metadata: twin.Metadata{Model: models.OEM}, Properties: map[string]any{"magnetDemandTonnesPerYear": 365.0}},
	}
	g, err := world.NetworkFromTwins(append(slices.Clone(twins), lone...), rels, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, wantN := len(g.Network.Nodes), len(want.Network.Nodes)+1; got != wantN {
		t.Fatalf("%d nodes, want %d (the world's and the lone OEM)", got, wantN)
	}
	for _, n := range g.Network.Nodes {
		if n.ID == "ref-sep" {
			t.Errorf("the unconnected separation plant is a node of the network")
		}
	}
	if !slices.ContainsFunc(g.Skipped, func(s string) bool { return strings.Contains(s, "twins[ref-sep]") && strings.Contains(s, "no feeds") }) {
		t.Errorf("Skipped = %q, want ref-sep reported", g.Skipped)
	}
}
