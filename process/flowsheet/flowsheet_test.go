package flowsheet_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"lodestone/internal/golden"
	"lodestone/process/calcine"
	"lodestone/process/flowsheet"
	"lodestone/process/precip"
)

// constantSpec is a SYNTHETIC Nd/Pr plant with constant distribution
// ratios (β = 1.5 in loading, near-complete stripping).
func constantSpec() *flowsheet.Spec {
	return &flowsheet.Spec{
		Media: "chloride",
		Feed:  flowsheet.Stream{FlowLPerH: 100, MgPerL: map[string]float64{"Nd": 10000, "Pr": 3000, "Ca": 100, "H": 10, "Cl": 30000}},
		Equilibrium: flowsheet.Equilibrium{Model: "constant",
			DLoad:  map[string]float64{"Nd": 3, "Pr": 2, "Ca": 0.05},
			DStrip: map[string]float64{"Nd": 0.02, "Pr": 0.015, "Ca": 0.01}, Source: "SYNTHETIC"},
		Extractant: "PC88A",
		Load: flowsheet.Load{ExtractionStages: 8, ScrubStages: 8, OrganicFlowLPerH: 150, ExtractantMolPerL: 1,
			Scrub: &flowsheet.Stream{FlowLPerH: 20, MgPerL: map[string]float64{"H": 300, "Cl": 10600}}},
		Strip:          flowsheet.Strip{Stages: 4, Acid: flowsheet.Stream{FlowLPerH: 30, MgPerL: map[string]float64{"H": 3000, "Cl": 106000}}, FiltrateRecycle: 0.5},
		OrganicRecycle: 0.95,
		Precipitation:  flowsheet.Precipitation{Model: precip.Isotherm, OxalicAcidMgPerL: 60000, Temperature: 333.15},
		Filtration:     flowsheet.Filtration{SolidsRecovery: 0.995, CakeMoisture: 0.3},
		Calcination: flowsheet.Calcination{FeedTemperature: 300, ProductTemperature: 1173.15, OxideRecovery: 0.99, Oxides: calcine.Sesquioxide,
			GasIn: calcine.Gas{MolPerS: 2, Temperature: 1300, Pressure: 101325, MoleFractions: map[string]float64{"O2": 0.21, "N2": 0.79}}},
	}
}

func checkClosure(t *testing.T, res *flowsheet.Result) {
	t.Helper()
	for m, c := range res.Closure {
		if !(math.Abs(c) <= 1e-9) {
			t.Errorf("closure %s = %g, want |c| ≤ 1e-9", m, c)
		}
	}
}

func TestConstantPlant(t *testing.T) {
	res, err := flowsheet.Run(t.Context(), constantSpec())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Converged {
		t.Fatalf("not converged: %d passes, tear %g", res.Iterations, res.TearResidual)
	}
	checkClosure(t, res)
	// Ca barely extracts (D 0.05 against acid scrub): it leaves in the
	// raffinate and the product is rare-earth oxide.
	if res.Recovery["Ca"] > 1e-6 {
		t.Errorf("Ca recovery = %g, want ≈ 0", res.Recovery["Ca"])
	}
	if res.REOPurity < 0.999999 {
		t.Errorf("REO purity = %v", res.REOPurity)
	}
	// Product recovery is bounded by filtration and dust: ≤ 0.995 × 0.99.
	for _, m := range []string{"Nd", "Pr"} {
		if r := res.Recovery[m]; r > 0.995*0.99+1e-12 || r < 0.9 {
			t.Errorf("recovery %s = %v, want in [0.9, 0.98505]", m, r)
		}
	}
	// Reagents: oxalic acid dose × strip liquor flow (30 L/h / (1 − 0.5)).
	if got, want := res.Reagents.OxalicAcidKgPerH, 60000*60/1e6; math.Abs(got-want) > 1e-12 {
		t.Errorf("oxalic acid = %v kg/h, want %v", got, want)
	}
	// Make-up = purge of the organic (5 % of 150 L/h of 1 M HA).
	if got, want := res.Reagents.ExtractantMolPerH, 0.05*150*1.0; math.Abs(got-want) > 1e-9*want {
		t.Errorf("extractant make-up = %v mol/h, want %v", got, want)
	}
	if res.Reagents.OxalicAcidKgPerTREO <= 0 || res.Reagents.AcidKgPerTREO <= 0 || res.Reagents.AcidName != "HCl" {
		t.Errorf("reagents = %+v", res.Reagents)
	}
}

// massActionSpec is an Nd/Pr plant on PC88A with the mass-action constants
// derived from the Lyon (2016) rows of the LLEPE data set
// (process-twin.md §d.6: log K_ex −1.703 Nd, −1.888 Pr, dimer basis).
func massActionSpec() *flowsheet.Spec {
	s := constantSpec()
	s.Feed = flowsheet.Stream{FlowLPerH: 100, MgPerL: map[string]float64{"Nd": 7212, "Pr": 7045, "H": 10, "Cl": 10990}}
	s.Equilibrium = flowsheet.Equilibrium{Model: "mass-action", LogK: map[string]float64{"Nd": -1.703, "Pr": -1.888},
		Source: "process-twin.md §d.6 (LLEPE, Lyon 2016 rows)"}
	s.Load = flowsheet.Load{ExtractionStages: 6, ScrubStages: 6, OrganicFlowLPerH: 200, ExtractantMolPerL: 1,
		Scrub: &flowsheet.Stream{FlowLPerH: 20, MgPerL: map[string]float64{"H": 500, "Cl": 17700}}}
	s.Strip = flowsheet.Strip{Stages: 4, Acid: flowsheet.Stream{FlowLPerH: 40, MgPerL: map[string]float64{"H": 3000, "Cl": 106000}}, FiltrateRecycle: 0.5}
	return s
}

func TestMassActionPlant(t *testing.T) {
	res, err := flowsheet.Run(t.Context(), massActionSpec())
	if err != nil {
		t.Fatal(err)
	}
	checkClosure(t, res)
	// Nd is the more extractable (β = 10^0.185 = 1.53): the product is
	// enriched in Nd against the 50/50 molar feed.
	if res.Purity["Nd"] <= 0.5 {
		t.Errorf("Nd purity = %v, want > 0.5", res.Purity["Nd"])
	}
	if res.Recovery["Nd"] <= res.Recovery["Pr"] {
		t.Errorf("recovery Nd %v ≤ Pr %v", res.Recovery["Nd"], res.Recovery["Pr"])
	}
}

func TestMoreScrubRaisesPurity(t *testing.T) {
	var last float64
	for _, m := range []int{0, 2, 6} {
		s := massActionSpec()
		s.Load.ScrubStages = m
		if m == 0 {
			s.Load.Scrub = nil
		}
		res, err := flowsheet.Run(t.Context(), s)
		if err != nil {
			t.Fatalf("scrub stages %d: %v", m, err)
		}
		if p := res.Purity["Nd"]; p < last-1e-12 {
			t.Errorf("scrub stages %d: Nd purity %v < %v with fewer", m, p, last)
		} else {
			last = p
		}
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*flowsheet.Spec)
		field string
	}{
		{"bad media", func(s *flowsheet.Spec) { s.Media = "nitrate" }, "media"},
		{"negative feed", func(s *flowsheet.Spec) { s.Feed.FlowLPerH = -1 }, "feed.flow_L_per_h"},
		{"unknown species", func(s *flowsheet.Spec) { s.Feed.MgPerL["Qq"] = 1 }, "feed.mg_per_L.Qq"},
		{"NaN conc", func(s *flowsheet.Spec) { s.Feed.MgPerL["Nd"] = math.NaN() }, "feed.mg_per_L.Nd"},
		{"missing log K", func(s *flowsheet.Spec) { delete(s.Equilibrium.LogK, "Pr") }, "equilibrium.log_K.Pr"},
		{"no stages", func(s *flowsheet.Spec) { s.Load.ExtractionStages = 0 }, "load.extraction_stages"},
		{"scrub missing", func(s *flowsheet.Spec) { s.Load.Scrub = nil }, "load.scrub"},
		{"recycle 1", func(s *flowsheet.Spec) { s.Strip.FiltrateRecycle = 1 }, "strip.filtrate_recycle"},
		{"unknown extractant", func(s *flowsheet.Spec) { s.Extractant = "Kerosene" }, "extractant"},
		{"precip model", func(s *flowsheet.Spec) { s.Precipitation.Model = "magic" }, "precipitation.model"},
		{"no O2", func(s *flowsheet.Spec) { s.Calcination.GasIn.MoleFractions = map[string]float64{"N2": 1} }, "calcination.gas_in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := massActionSpec()
			tt.mod(s)
			_, err := flowsheet.Run(t.Context(), s)
			var se *flowsheet.SpecError
			if !errors.As(err, &se) || se.Field != tt.field {
				t.Fatalf("Run = %v, want SpecError on %q", err, tt.field)
			}
		})
	}
}

func TestNotConverged(t *testing.T) {
	s := massActionSpec()
	s.MaxIterations = 2
	res, err := flowsheet.Run(t.Context(), s)
	if !errors.Is(err, flowsheet.ErrNotConverged) {
		t.Fatalf("err = %v, want ErrNotConverged", err)
	}
	if res == nil || res.Converged || res.Calcination == nil {
		t.Fatalf("want the last iterate, got %+v", res)
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := flowsheet.Run(ctx, massActionSpec()); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestBalanceProperty runs random plants and checks that the element
// balance closes at the converged state.
func TestBalanceProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 2))
	n := 30
	if testing.Short() {
		n = 8
	}
	for i := range n {
		s := constantSpec()
		s.Feed.MgPerL = map[string]float64{"Nd": r.Float64() * 10000, "Pr": r.Float64() * 5000, "Ca": r.Float64() * 500, "H": 1 + r.Float64()*50}
		s.Equilibrium.DLoad = map[string]float64{"Nd": 0.5 + 5*r.Float64(), "Pr": 0.3 + 3*r.Float64(), "Ca": r.Float64() * 0.2}
		s.Equilibrium.DStrip = map[string]float64{"Nd": r.Float64() * 0.1, "Pr": r.Float64() * 0.1, "Ca": r.Float64() * 0.1}
		s.Load.ExtractionStages = 1 + r.IntN(8)
		s.Load.ScrubStages = 1 + r.IntN(8)
		s.Strip.Stages = 1 + r.IntN(6)
		s.Strip.FiltrateRecycle = r.Float64() * 0.9
		s.OrganicRecycle = r.Float64()
		s.Precipitation.OxalicAcidMgPerL = 20000 + r.Float64()*80000
		s.Calcination.GasIn.MolPerS = 20
		res, err := flowsheet.Run(t.Context(), s)
		if err != nil {
			t.Fatalf("case %d: %v\nfeed %v D %v %v stages %d/%d/%d rf %v ro %v", i, err, s.Feed.MgPerL, s.Equilibrium.DLoad, s.Equilibrium.DStrip,
				s.Load.ExtractionStages, s.Load.ScrubStages, s.Strip.Stages, s.Strip.FiltrateRecycle, s.OrganicRecycle)
		}
		checkClosure(t, res)
	}
}

func TestSulfatePlant(t *testing.T) {
	s := constantSpec()
	s.Media = "sulfate"
	s.Feed.MgPerL = map[string]float64{"Nd": 5000, "Pr": 1500, "H": 5, "HSO4": 500, "SO4": 15000}
	s.Load.Scrub = &flowsheet.Stream{FlowLPerH: 20, MgPerL: map[string]float64{"H": 100, "HSO4": 9700}}
	s.Strip.Acid = flowsheet.Stream{FlowLPerH: 30, MgPerL: map[string]float64{"H": 1000, "HSO4": 97000}}
	res, err := flowsheet.Run(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	checkClosure(t, res)
	if res.Reagents.AcidName != "H2SO4" {
		t.Errorf("acid = %q, want H2SO4", res.Reagents.AcidName)
	}
	// H⁺ + HSO4⁻ fed: scrub 20 L/h and strip 30 L/h.
	want := 20*(0.1/1.008+9.7/97.07) + 30*(1/1.008+97/97.07)
	if got := res.Reagents.AcidMolPerH; math.Abs(got-want) > 1e-3*want {
		t.Errorf("acid = %v mol/h H⁺, want %v", got, want)
	}
	if res.StripLiquor.MgPerL["HSO4"] <= 0 {
		t.Errorf("strip liquor has no HSO4: %v", res.StripLiquor.MgPerL)
	}
}

// TestRunDeterministic runs each plant many times and requires the same
// bits every time: Go randomises map iteration, so a sum over a map in
// iteration order (the losses by outlet, say) would change the last bits of
// the closure from run to run. The JSON of a float64 is its shortest
// round-trip form, so equal JSON is equal bits.
func TestRunDeterministic(t *testing.T) {
	example := func(t *testing.T) *flowsheet.Spec {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", "flowsheet", "ndpr-pc88a.json"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := flowsheet.ParseSpec(data)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name string
		spec func(t *testing.T) *flowsheet.Spec
	}{
		{"constant", func(*testing.T) *flowsheet.Spec { return constantSpec() }},
		{"mass action", func(*testing.T) *flowsheet.Spec { return massActionSpec() }},
		{"ndpr-pc88a.json", example},
	}
	runs := 50
	if testing.Short() {
		runs = 10
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden.Repeatable(t, runs, func() (any, error) { return flowsheet.Run(t.Context(), tt.spec(t)) })
		})
	}
}
