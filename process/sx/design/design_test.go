package design_test

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lodestone/process/sx/design"
)

func TestNew(t *testing.T) {
	// Hand-worked cases of the closed forms (derived from process-twin.md
	// §b.5; the arithmetic is in the comments).
	tests := []struct {
		name string
		spec design.Spec
		want design.Design
		tol  float64
	}{
		{
			// β = 2, f_A = 0.5, P = 0.99: f'_A = 0.5 > 1/(1+√2) = 0.4142, so
			// scrub-controlled: W = 0.5/(√2−1) = 1.2071, S = 1.7071,
			// E = S/(W+1) = 0.77346, E' = √2; a = b = 99;
			// y* = 2/3, W_min = 0.5·(0.99−2/3)/(2/3−0.5) = 0.97;
			// n = ln 99/ln(2·0.77346) = 10.5329, m = 2·ln 99/ln 2 = 13.258.
			name: "beta 2 symmetric aqueous",
			spec: design.Spec{Beta: 2, FeedFractionA: 0.5, PurityA: 0.99, PurityB: 0.99, Feed: design.AqueousFeed},
			want: design.Design{Regime: design.ScrubControlled, FAPrime: 0.5, FBPrime: 0.5,
				S: 0.5/(math.Sqrt2-1) + 0.5, W: 0.5 / (math.Sqrt2 - 1), SMin: 1.47, WMin: 0.97,
				EExtraction: (0.5/(math.Sqrt2-1) + 0.5) / (0.5/(math.Sqrt2-1) + 1), EScrub: math.Sqrt2,
				A: 99, B: 99, N: 11, M: 14, NExact: 10.53287, MExact: 2 * math.Log(99) / math.Log(2),
				NMin: 2 * math.Log(99) / math.Log(2)},
			tol: 1e-4,
		},
		{
			// β = 1.5, f_A = 0.3, P_A = 0.999, P_B = 0.99:
			// f'_A = (0.3−1+0.99)/(0.999−1+0.99) = 0.29/0.989 = 0.293225 <
			// 1/(1+√1.5) = 0.44949: extraction-controlled, E = 1/√1.5,
			// W = (1 − √1.5·0.293225)/(√1.5−1) = 2.85238;
			// a = 999/(3/7) = 2331, b = 99/(7/3) = 42.4286.
			name: "beta 1.5 extraction-controlled",
			spec: design.Spec{Beta: 1.5, FeedFractionA: 0.3, PurityA: 0.999, PurityB: 0.99, Feed: design.AqueousFeed},
			want: design.Design{Regime: design.ExtractionControlled, FAPrime: 0.29 / 0.989, FBPrime: 1 - 0.29/0.989,
				W: (1 - math.Sqrt(1.5)*0.29/0.989) / (math.Sqrt(1.5) - 1), S: (1-math.Sqrt(1.5)*0.29/0.989)/(math.Sqrt(1.5)-1) + 0.29/0.989,
				SMin: 2.24485, WMin: 1.95163,
				EExtraction: 1 / math.Sqrt(1.5), EScrub: 1.10283, A: 2331, B: 99.0 * 3 / 7,
				N: 19, M: 26, NExact: 2 * math.Log(99.0*3/7) / math.Log(1.5), MExact: 25.20941,
				NMin: math.Log(2331*99.0*3/7) / math.Log(1.5)},
			tol: 1e-4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := design.New(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Spec = tt.spec
			if diff := cmp.Diff(tt.want, *got, cmpopts.EquateApprox(tt.tol, 1e-9)); diff != "" {
				t.Errorf("New(%+v) mismatch (-want +got):\n%s", tt.spec, diff)
			}
		})
	}
}

// TestSharpSplit checks the limits of the minimum flows: W_min → 1/(β−1)
// for an aqueous feed and S_min → 1/(β−1) for an organic feed.
func TestSharpSplit(t *testing.T) {
	for _, beta := range []float64{1.2, 1.5, 2, 3.22} {
		for _, fA := range []float64{0.1, 0.5, 0.9} {
			p := 1 - 1e-9
			aq, err := design.New(design.Spec{Beta: beta, FeedFractionA: fA, PurityA: p, PurityB: p, Feed: design.AqueousFeed})
			if err != nil {
				t.Fatal(err)
			}
			org, err := design.New(design.Spec{Beta: beta, FeedFractionA: fA, PurityA: p, PurityB: p, Feed: design.OrganicFeed})
			if err != nil {
				t.Fatal(err)
			}
			want := 1 / (beta - 1)
			if math.Abs(aq.WMin-want) > 1e-6*want || math.Abs(org.SMin-want) > 1e-6*want {
				t.Errorf("β %v f_A %v: W_min = %v (aqueous), S_min = %v (organic), want %v", beta, fA, aq.WMin, org.SMin, want)
			}
		}
	}
}

// TestMirror checks the phase symmetry: an organic feed of A/B is an
// aqueous feed of B/A with the phases (S↔W) and the sections (n↔m)
// swapped.
func TestMirror(t *testing.T) {
	for _, s := range []design.Spec{
		{Beta: 1.5, FeedFractionA: 0.5, PurityA: 0.99, PurityB: 0.99},
		{Beta: 2, FeedFractionA: 0.3, PurityA: 0.99, PurityB: 0.95},
		{Beta: 3.22, FeedFractionA: 0.9, PurityA: 0.98, PurityB: 0.5},
		{Beta: 1.3, FeedFractionA: 0.7, PurityA: 0.999, PurityB: 0.9},
	} {
		s.Feed = design.OrganicFeed
		org, err := design.New(s)
		if err != nil {
			t.Fatal(err)
		}
		m := design.Spec{Beta: s.Beta, FeedFractionA: 1 - s.FeedFractionA, PurityA: s.PurityB, PurityB: s.PurityA, Feed: design.AqueousFeed}
		aq, err := design.New(m)
		if err != nil {
			t.Fatal(err)
		}
		got := []float64{org.S, org.W, org.SMin, org.WMin, org.NExact, org.MExact, org.NMin, org.FBPrime}
		want := []float64{aq.W, aq.S, aq.WMin, aq.SMin, aq.MExact, aq.NExact, aq.NMin, aq.FAPrime}
		if diff := cmp.Diff(want, got, cmpopts.EquateApprox(1e-12, 1e-12)); diff != "" {
			t.Errorf("organic %+v vs mirrored aqueous (-want +got):\n%s", s, diff)
		}
		if (org.Regime == design.ScrubControlled) != (aq.Regime == design.ExtractionControlled) {
			t.Errorf("regimes %v and %v are not mirrors", org.Regime, aq.Regime)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := design.Spec{Beta: 1.5, FeedFractionA: 0.5, PurityA: 0.99, PurityB: 0.99, Feed: design.AqueousFeed}
	tests := []struct {
		name  string
		mod   func(*design.Spec)
		field string
	}{
		{"beta 1", func(s *design.Spec) { s.Beta = 1 }, "beta"},
		{"beta below 1", func(s *design.Spec) { s.Beta = 0.5 }, "beta"},
		{"beta NaN", func(s *design.Spec) { s.Beta = math.NaN() }, "beta"},
		{"beta Inf", func(s *design.Spec) { s.Beta = math.Inf(1) }, "beta"},
		{"feed fraction 0", func(s *design.Spec) { s.FeedFractionA = 0 }, "feed_fraction_A"},
		{"feed fraction 1", func(s *design.Spec) { s.FeedFractionA = 1 }, "feed_fraction_A"},
		{"feed fraction NaN", func(s *design.Spec) { s.FeedFractionA = math.NaN() }, "feed_fraction_A"},
		{"purity A 1", func(s *design.Spec) { s.PurityA = 1 }, "purity_A"},
		{"purity A NaN", func(s *design.Spec) { s.PurityA = math.NaN() }, "purity_A"},
		{"purity A below feed", func(s *design.Spec) { s.PurityA = 0.4 }, "purity_A"},
		{"purity B 0", func(s *design.Spec) { s.PurityB = 0 }, "purity_B"},
		{"purity B below feed", func(s *design.Spec) { s.PurityB = 0.5 }, "purity_B"},
		{"feed phase", func(s *design.Spec) { s.Feed = 0 }, "feed_phase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.mod(&s)
			_, err := design.New(s)
			var fe *design.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("New(%+v) = %v, want an error naming %q", s, err, tt.field)
			}
		})
	}
}

func TestParseSpec(t *testing.T) {
	tests := []struct {
		name, in string
		field    string // "" means valid
	}{
		{"valid", `{"beta": 1.5, "feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, ""},
		{"valid organic", `{"beta": 1.5, "feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "organic"}`, ""},
		{"unknown field", `{"beta": 1.5, "feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous", "colour": 1}`, "colour"},
		{"missing beta", `{"feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, "beta"},
		{"missing feed phase", `{"beta": 1.5, "feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99}`, "feed_phase"},
		{"missing purity B", `{"beta": 1.5, "feed_fraction_A": 0.5, "purity_A": 0.99, "feed_phase": "aqueous"}`, "purity_B"},
		{"beta string", `{"beta": "NaN", "feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, "beta"},
		{"beta 0.9", `{"beta": 0.9, "feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, "beta"},
		{"fraction 1.2", `{"beta": 1.5, "feed_fraction_A": 1.2, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, "feed_fraction_A"},
		{"purity -1", `{"beta": 1.5, "feed_fraction_A": 0.5, "purity_A": -1, "purity_B": 0.99, "feed_phase": "aqueous"}`, "purity_A"},
		{"bad phase", `{"beta": 1.5, "feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "gas"}`, "feed_phase"},
		{"NaN literal", `{"beta": NaN}`, "spec"},
		{"trailing", `{"beta": 1.5, "feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"} {}`, "spec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := design.ParseSpec([]byte(tt.in))
			if tt.field == "" {
				if err != nil {
					t.Fatalf("ParseSpec = %v, want nil", err)
				}
				return
			}
			var fe *design.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("ParseSpec(%s) = %v, want an error naming %q", tt.in, err, tt.field)
			}
		})
	}
}

func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(`{"beta": 1.5, "feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`))
	f.Add([]byte(`{"beta": 3.22, "feed_fraction_A": 0.9, "purity_A": 0.98, "purity_B": 0.5, "feed_phase": "organic"}`))
	f.Add([]byte(`{"beta": 1e308, "feed_fraction_A": 1e-300, "purity_A": 0.5, "purity_B": 0.99999999999, "feed_phase": "organic"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := design.ParseSpec(data)
		if err != nil {
			var fe *design.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseSpec error %v is not a *FieldError", err)
			}
			return
		}
		d, err := design.New(s)
		if err != nil {
			if !errors.Is(err, design.ErrInfeasible) {
				t.Fatalf("New(%+v) = %v after a valid parse", s, err)
			}
			return
		}
		for _, v := range []float64{d.S, d.W, d.SMin, d.WMin, d.EExtraction, d.EScrub, d.NMin} {
			if math.IsNaN(v) {
				t.Fatalf("New(%+v) has NaN: %+v", s, d)
			}
		}
		if d.N < 1 || d.M < 1 {
			t.Fatalf("New(%+v): stages %d, %d", s, d.N, d.M)
		}
	})
}
