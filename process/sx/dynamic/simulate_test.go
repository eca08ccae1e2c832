package dynamic_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lodestone/process/sx"
	"lodestone/process/sx/dynamic"
)

// ndpr is a small Nd/Pr cascade: feed at stage 4 of 8, scrub acid at 8.
func ndpr(model sx.Equilibrium) sx.Problem {
	return sx.Problem{
		Stages:     8,
		Components: []sx.Component{{Name: "Nd", Charge: 3, MolarMass: 144.242}, {Name: "Pr", Charge: 3, MolarMass: 140.908}},
		Inlets: []sx.Inlet{
			{Name: "feed", Phase: sx.Aqueous, Stage: 4, Flow: 10, Conc: []float64{0.1, 0.05}, H: 0.1},
			{Name: "scrub", Phase: sx.Aqueous, Stage: 8, Flow: 5, H: 1},
			{Name: "organic", Phase: sx.Organic, Stage: 1, Flow: 20, Extractant: 1},
		},
		Model: model,
	}
}

// saponified is the Nd/Pr cascade of examples/sx/ndpr-saponified.json
// shortened to 10 stages: PC88A saponified with Na, mass action with the
// process/sx fit of the Lyon (2016) rows.
func saponified() sx.Problem {
	return sx.Problem{
		Stages:     10,
		Components: []sx.Component{{Name: "Na", Charge: 1, CounterIon: true}, {Name: "Nd", Charge: 3}, {Name: "Pr", Charge: 3}},
		Inlets: []sx.Inlet{
			{Name: "feed", Phase: sx.Aqueous, Stage: 5, Flow: 10, Conc: []float64{0, 0.15, 0.05}, H: 0.001},
			{Name: "scrub", Phase: sx.Aqueous, Stage: 10, Flow: 4, H: 1},
			{Name: "organic", Phase: sx.Organic, Stage: 1, Flow: 25, Conc: []float64{0.3, 0, 0}, Extractant: 0.7},
		},
		Model: sx.MassAction{LogK: []float64{-3.5, -1.604, -1.750}},
	}
}

// TestConvergesToSteadyState starts from empty stages and runs until the
// transient settles: the end state must be the steady state of process/sx.
func TestConvergesToSteadyState(t *testing.T) {
	tests := []struct {
		name     string
		cascade  sx.Problem
		holdup   dynamic.Holdup
		duration float64
		tol      float64
	}{
		{"constant D, no settler", ndpr(sx.Constant{D: []float64{1.5, 0.5}}), dynamic.Holdup{Mixer: 50}, 1500, 1e-6},
		{"constant D, settlers", ndpr(sx.Constant{D: []float64{1.5, 0.5}}), dynamic.Holdup{Mixer: 50, Settler: 200, SettlerCells: 3}, 3000, 1e-6},
		{"mass action, acid", ndpr(sx.MassAction{LogK: []float64{-1.604, -1.750}}), dynamic.Holdup{Mixer: 50, Settler: 100}, 3000, 1e-6},
		{"mass action, saponified", saponified(), dynamic.Holdup{Mixer: 30, Settler: 60, OrganicFraction: 0.6}, 4000, 1e-5},
	}
	if testing.Short() {
		tests = tests[:1]
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := dynamic.Problem{Cascade: tt.cascade, Holdup: tt.holdup, Duration: tt.duration}
			res, err := dynamic.Simulate(t.Context(), p, &dynamic.Settings{OutputEvery: tt.duration / 10})
			if err != nil {
				t.Fatal(err)
			}
			if res.Steady == nil {
				t.Fatalf("no steady reference: %v", res.SteadyErr)
			}
			if !res.Reached || res.Deviation > tt.tol {
				t.Errorf("deviation %g at %g h, want < %g", res.Deviation, tt.duration, tt.tol)
			}
			last := res.Samples[len(res.Samples)-1]
			opt := cmpopts.EquateApprox(10*tt.tol, 1e-12)
			if diff := cmp.Diff(res.Steady.Raffinate.Conc, last.Raffinate, opt); diff != "" {
				t.Errorf("raffinate vs process/sx (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(res.Steady.Extract.Conc, last.Extract, opt); diff != "" {
				t.Errorf("extract vs process/sx (-want +got):\n%s", diff)
			}
			if c := res.MaxClosure(); c > 1e-9 {
				t.Errorf("mass-balance closure %g > 1e-9", c)
			}
			if math.IsNaN(res.TimeToSteady) || res.TimeToSteady <= 0 || res.TimeToSteady >= tt.duration {
				t.Errorf("time to steady state %v h", res.TimeToSteady)
			}
			t.Logf("%d steps, time to steady state %.1f h", res.Stats.Steps, res.TimeToSteady)
		})
	}
}

// TestSingleStage checks the transient against the closed form of one
// mixer with constant D started empty: the inventory (Va + Vo·D)·x obeys
// (Va + Vo·D)·dx/dt = F·xF − (A + O·D)·x, so x = x_ss·(1 − exp(−t/τ)),
// τ = (Va + Vo·D)/(A + O·D).
func TestSingleStage(t *testing.T) {
	const D, F, O, xF, V, phi = 2.0, 10.0, 5.0, 0.1, 30.0, 0.4
	c := sx.Problem{
		Stages:     1,
		Components: []sx.Component{{Name: "Nd", Charge: 3}},
		Inlets: []sx.Inlet{
			{Phase: sx.Aqueous, Stage: 1, Flow: F, Conc: []float64{xF}, H: 0.5},
			{Phase: sx.Organic, Stage: 1, Flow: O, Extractant: 1},
		},
		Model: sx.Constant{D: []float64{D}},
	}
	p := dynamic.Problem{Cascade: c, Holdup: dynamic.Holdup{Mixer: V, OrganicFraction: phi}, Duration: 20}
	res, err := dynamic.Simulate(t.Context(), p, &dynamic.Settings{OutputEvery: 0.5, Tolerance: 1e-5, MaxStep: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	va, vo := (1-phi)*V, phi*V
	tau := (va + vo*D) / (F + O*D)
	xss := F * xF / (F + O*D)
	for _, s := range res.Samples {
		want := xss * (1 - math.Exp(-s.T/tau))
		if got := s.Aqueous[0][0]; math.Abs(got-want) > 2e-3*xss {
			t.Errorf("x(%g h) = %v, want %v", s.T, got, want)
		}
	}
	// The deviation is largest in the organic, |y − y_ss| = D·x_ss·exp(−t/τ),
	// over the scale max(x_ss, y_ss) = D·x_ss: it falls below 0.01 at
	// t = τ·ln 100.
	want := tau * math.Log(100)
	if got := res.TimeToSteady; math.Abs(got-want) > 0.02*want {
		t.Errorf("time to steady state %v h, want %v", got, want)
	}
}

// TestSteadyStart starts at the steady state of process/sx with no
// disturbance: nothing moves.
func TestSteadyStart(t *testing.T) {
	p := dynamic.Problem{Cascade: saponified(), Holdup: dynamic.Holdup{Mixer: 30, Settler: 60}, Duration: 100, Start: dynamic.SteadyState}
	res, err := dynamic.Simulate(t.Context(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deviation > 1e-9 || res.TimeToSteady != 0 {
		t.Errorf("deviation %g, time to steady state %v, want ~0 and 0", res.Deviation, res.TimeToSteady)
	}
}

// TestMassBalanceProperty runs random cascades with random disturbances
// and checks that accumulation = in − out closes to 1e-9 and that no
// concentration is negative.
func TestMassBalanceProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 1))
	runs := 12
	if testing.Short() {
		runs = 3
	}
	for r := 0; r < runs; r++ {
		N := 1 + rng.IntN(12)
		feed := 1 + rng.IntN(N)
		var model sx.Equilibrium = sx.Constant{D: []float64{0.1 + 3*rng.Float64(), 0.1 + 3*rng.Float64()}}
		media := sx.Chloride
		if r%2 == 1 {
			model = sx.MassAction{LogK: []float64{-1 - rng.Float64(), -1 - rng.Float64()}}
			if r%4 == 3 {
				media = sx.Sulfate
			}
		}
		c := sx.Problem{
			Stages:     N,
			Media:      media,
			Components: []sx.Component{{Name: "Nd", Charge: 3}, {Name: "Pr", Charge: 3}},
			Inlets: []sx.Inlet{
				{Phase: sx.Aqueous, Stage: feed, Flow: 1 + 10*rng.Float64(), Conc: []float64{0.1 * rng.Float64(), 0.1 * rng.Float64()}, H: 0.05 + 0.5*rng.Float64()},
				{Phase: sx.Aqueous, Stage: N, Flow: 1 + 5*rng.Float64(), H: 0.5 + rng.Float64()},
				{Phase: sx.Organic, Stage: 1, Flow: 1 + 20*rng.Float64(), Extractant: 1 + rng.Float64()},
			},
			Model: model,
		}
		if media == sx.Sulfate {
			c.Inlets[0].HSO4, c.Inlets[0].SO4 = 0.2*rng.Float64(), 0.2*rng.Float64()
		}
		dur := 50 + 200*rng.Float64()
		p := dynamic.Problem{
			Cascade:  c,
			Holdup:   dynamic.Holdup{Mixer: 5 + 50*rng.Float64(), Settler: 100 * rng.Float64(), SettlerCells: rng.IntN(6)},
			Duration: dur,
			Disturbances: []dynamic.Disturbance{
				{Kind: dynamic.Step, Start: dur * rng.Float64(), Inlet: 0, Field: dynamic.Conc, Component: rng.IntN(2), Value: 0.2 * rng.Float64()},
				{Kind: dynamic.Ramp, Start: dur * 0.3, End: dur * 0.6, Inlet: 2, Field: dynamic.Flow, Value: 1 + 20*rng.Float64()},
				{Kind: dynamic.Step, Start: dur * 0.5, End: dur * 0.7, Inlet: 1, Field: dynamic.H, Value: 0.3 + rng.Float64()},
			},
		}
		if r%3 == 0 {
			p.Start = dynamic.SteadyState
		}
		res, err := dynamic.Simulate(t.Context(), p, nil)
		if err != nil {
			t.Fatalf("run %d: %v", r, err)
		}
		if c := res.MaxClosure(); c > 1e-9 {
			t.Errorf("run %d (%d stages, %T): closure %g > 1e-9", r, N, model, c)
		}
		for _, s := range res.Samples {
			for k := range s.Aqueous {
				for i := range s.Aqueous[k] {
					if s.Aqueous[k][i] < 0 || s.Organic[k][i] < 0 {
						t.Fatalf("run %d: negative concentration at t = %g, stage %d", r, s.T, k+1)
					}
				}
			}
		}
	}
}

func TestInletsAt(t *testing.T) {
	p := dynamic.Problem{
		Cascade: ndpr(sx.Constant{D: []float64{1.5, 0.5}}),
		Disturbances: []dynamic.Disturbance{
			{Kind: dynamic.Step, Start: 10, Inlet: 0, Field: dynamic.Conc, Component: 0, Value: 0.2},
			{Kind: dynamic.Step, Start: 10, End: 20, Inlet: 1, Field: dynamic.H, Value: 2},
			{Kind: dynamic.Ramp, Start: 10, End: 30, Inlet: 2, Field: dynamic.Flow, Value: 40},
		},
	}
	tests := []struct {
		t                   float64
		nd, scrubH, orgFlow float64
	}{
		{0, 0.1, 1, 20},
		{10, 0.1, 1, 20}, // a step counts from just after its start
		{10.5, 0.2, 2, 20.5},
		{20, 0.2, 2, 30},
		{20.5, 0.2, 1, 30.5},
		{30, 0.2, 1, 40},
		{100, 0.2, 1, 40},
	}
	for _, tt := range tests {
		in := p.InletsAt(tt.t)
		got := []float64{in[0].Conc[0], in[1].H, in[2].Flow}
		want := []float64{tt.nd, tt.scrubH, tt.orgFlow}
		if diff := cmp.Diff(want, got, cmpopts.EquateApprox(1e-12, 0)); diff != "" {
			t.Errorf("InletsAt(%v) (-want +got):\n%s", tt.t, diff)
		}
	}
	if p.Cascade.Inlets[0].Conc[0] != 0.1 {
		t.Errorf("InletsAt changed the base inlets")
	}
}

func TestValidate(t *testing.T) {
	ok := func() dynamic.Problem {
		return dynamic.Problem{Cascade: ndpr(sx.Constant{D: []float64{1.5, 0.5}}), Holdup: dynamic.Holdup{Mixer: 10}, Duration: 10}
	}
	tests := []struct {
		name string
		mod  func(*dynamic.Problem)
		want string
	}{
		{"mixer", func(p *dynamic.Problem) { p.Holdup.Mixer = 0 }, "holdup.mixer"},
		{"mixer NaN", func(p *dynamic.Problem) { p.Holdup.Mixer = math.NaN() }, "holdup.mixer"},
		{"fraction", func(p *dynamic.Problem) { p.Holdup.OrganicFraction = 1 }, "holdup.organic_fraction"},
		{"settler", func(p *dynamic.Problem) { p.Holdup.Settler = -1 }, "holdup.settler"},
		{"cells", func(p *dynamic.Problem) { p.Holdup.SettlerCells = -1 }, "holdup.settler_cells"},
		{"duration", func(p *dynamic.Problem) { p.Duration = 0 }, "duration"},
		{"inlet", func(p *dynamic.Problem) {
			p.Disturbances = []dynamic.Disturbance{{Kind: dynamic.Step, Inlet: 3, Field: dynamic.Flow}}
		}, "disturbances[0].inlet"},
		{"ramp end", func(p *dynamic.Problem) {
			p.Disturbances = []dynamic.Disturbance{{Kind: dynamic.Ramp, Start: 5, End: 5, Field: dynamic.Flow}}
		}, "disturbances[0].end"},
		{"acid on organic", func(p *dynamic.Problem) {
			p.Disturbances = []dynamic.Disturbance{{Kind: dynamic.Step, Inlet: 2, Field: dynamic.H}}
		}, "disturbances[0].field"},
		{"sulfate in chloride", func(p *dynamic.Problem) {
			p.Disturbances = []dynamic.Disturbance{{Kind: dynamic.Step, Inlet: 0, Field: dynamic.SO4}}
		}, "disturbances[0].field"},
		{"negative value", func(p *dynamic.Problem) {
			p.Disturbances = []dynamic.Disturbance{{Kind: dynamic.Step, Inlet: 0, Field: dynamic.Flow, Value: -1}}
		}, "disturbances[0].value"},
		{"cascade", func(p *dynamic.Problem) { p.Cascade.Stages = 0 }, "cascade"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok()
			tt.mod(&p)
			_, err := dynamic.Simulate(t.Context(), p, nil)
			if err == nil || !contains(err.Error(), tt.want) {
				t.Errorf("Simulate = %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	p := dynamic.Problem{Cascade: ndpr(sx.Constant{D: []float64{1.5, 0.5}}), Holdup: dynamic.Holdup{Mixer: 10}, Duration: 10}
	if _, err := dynamic.Simulate(ctx, p, nil); err != context.Canceled {
		t.Errorf("Simulate with a canceled context = %v, want context.Canceled", err)
	}
}
