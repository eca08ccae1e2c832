package dynamic

import (
	"fmt"
	"math"
	"time"

	"lodestone/process/sx"
)

// Holdup gives the volumes of every stage. The mixer is one ideal stirred
// tank holding both phases; each phase of the settler is SettlerCells
// stirred tanks in series (a delay with dispersion, plant-trust.md §b.1).
// Volumes are constant: a flow change passes straight through.
type Holdup struct {
	Mixer float64 // L, both phases, per stage; > 0
	// OrganicFraction is φ, the organic volume fraction of the mixer and
	// the settler; 0 means the organic share of the flows O/(A+O) of each
	// stage at time zero.
	OrganicFraction float64
	Settler         float64 // L, both phases, per stage; 0 means no settler
	SettlerCells    int     // tanks in series per phase; 0 means 4 (PrOMMiS uses 4 elements)
}

// Kind is the shape of a disturbance.
type Kind int

// The kinds. A Step sets the field to Value from Start (until End when End
// > Start, then back); a Ramp moves it linearly from its value at Start to
// Value at End and holds it there.
const (
	Step Kind = iota + 1
	Ramp
)

// String returns "step" or "ramp".
func (k Kind) String() string {
	switch k {
	case Step:
		return "step"
	case Ramp:
		return "ramp"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Field is what a disturbance changes on an inlet.
type Field int

// The fields. Conc is the concentration of the component Disturbance.Component.
const (
	Flow       Field = iota + 1 // L/h
	Conc                        // mol/L of a component
	H                           // mol/L free H⁺ of an aqueous inlet
	HSO4                        // mol/L of an aqueous inlet
	SO4                         // mol/L of an aqueous inlet
	Extractant                  // mol/L HA of an organic inlet
)

// Disturbance changes one field of one inlet over time. Disturbances are
// applied in order, each to the value left by the ones before it.
type Disturbance struct {
	Kind       Kind
	Start, End float64 // h
	Inlet      int     // index into the cascade's Inlets
	Field      Field
	Component  int     // index of the component, for Conc
	Value      float64 // target value, L/h or mol/L
}

// Start is the state of the cascade at time zero.
type Start int

// The starts. Empty fills every mixer and settler with fresh phases (the
// flow-weighted mean of the aqueous inlets with their metals left out, and
// of the organic inlets with only their counter-ions loaded); SteadyState
// starts from the steady state of process/sx at the inlets of time zero.
const (
	Empty Start = iota
	SteadyState
)

// Problem is a transient cascade: the steady-state problem of process/sx,
// volumes, a horizon and disturbances.
type Problem struct {
	Cascade      sx.Problem
	Holdup       Holdup
	Duration     float64 // h
	Disturbances []Disturbance
	Start        Start
}

// Settings are the knobs of Simulate. A nil *Settings means the defaults.
type Settings struct {
	InitialStep float64 // h; 0 means 1e-3
	MaxStep     float64 // h; 0 means the larger of 2 h and Duration/500
	// Tolerance is the local error accepted per step, relative to each
	// concentration (plus 1e-3 of the component's largest inlet
	// concentration); 0 means 1e-3.
	Tolerance float64
	// OutputEvery is the interval between samples, h; 0 means Duration/100.
	OutputEvery float64
	// SteadyTolerance is ε of the time to steady state; 0 means 0.01.
	SteadyTolerance float64
	// MaxSteps bounds the accepted and rejected steps; 0 means 10⁷.
	MaxSteps int
}

func (s *Settings) defaults(duration float64) Settings {
	var o Settings
	if s != nil {
		o = *s
	}
	if o.InitialStep <= 0 {
		o.InitialStep = 1e-3
	}
	if o.MaxStep <= 0 {
		o.MaxStep = max(2, duration/500)
	}
	if o.Tolerance <= 0 {
		o.Tolerance = 1e-3
	}
	if o.OutputEvery <= 0 {
		o.OutputEvery = duration / 100
	}
	if o.SteadyTolerance <= 0 {
		o.SteadyTolerance = 0.01
	}
	if o.MaxSteps <= 0 {
		o.MaxSteps = 10_000_000
	}
	return o
}

// Validate checks the problem and returns an error naming the field.
func (p *Problem) Validate() error {
	if err := p.Cascade.Validate(); err != nil {
		return fmt.Errorf("dynamic: cascade: %w", err)
	}
	fin := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	h := p.Holdup
	switch {
	case !fin(h.Mixer) || h.Mixer <= 0:
		return fmt.Errorf("dynamic: holdup.mixer: %v, want a finite volume > 0", h.Mixer)
	case !fin(h.OrganicFraction) || h.OrganicFraction < 0 || h.OrganicFraction >= 1:
		return fmt.Errorf("dynamic: holdup.organic_fraction: %v is outside [0,1)", h.OrganicFraction)
	case !fin(h.Settler) || h.Settler < 0:
		return fmt.Errorf("dynamic: holdup.settler: %v, want a finite volume ≥ 0", h.Settler)
	case h.SettlerCells < 0 || h.SettlerCells > 100:
		return fmt.Errorf("dynamic: holdup.settler_cells: %d is outside 0..100", h.SettlerCells)
	case !fin(p.Duration) || p.Duration <= 0:
		return fmt.Errorf("dynamic: duration: %v, want a finite time > 0", p.Duration)
	case p.Start != Empty && p.Start != SteadyState:
		return fmt.Errorf("dynamic: start: %d is unknown", p.Start)
	}
	for i, d := range p.Disturbances {
		f := fmt.Sprintf("dynamic: disturbances[%d]", i)
		if d.Inlet < 0 || d.Inlet >= len(p.Cascade.Inlets) {
			return fmt.Errorf("%s.inlet: %d is out of range 0..%d", f, d.Inlet, len(p.Cascade.Inlets)-1)
		}
		if !fin(d.Start) || d.Start < 0 {
			return fmt.Errorf("%s.start: %v, want a finite time ≥ 0", f, d.Start)
		}
		if !fin(d.End) || d.End < 0 {
			return fmt.Errorf("%s.end: %v, want a finite time ≥ 0", f, d.End)
		}
		if !fin(d.Value) || d.Value < 0 {
			return fmt.Errorf("%s.value: %v, want a finite value ≥ 0", f, d.Value)
		}
		switch d.Kind {
		case Step:
		case Ramp:
			if d.End <= d.Start {
				return fmt.Errorf("%s.end: %v, a ramp must end after it starts (%v)", f, d.End, d.Start)
			}
		default:
			return fmt.Errorf("%s.kind: %v is neither step nor ramp", f, d.Kind)
		}
		in := p.Cascade.Inlets[d.Inlet]
		switch d.Field {
		case Flow:
		case Conc:
			if d.Component < 0 || d.Component >= len(p.Cascade.Components) {
				return fmt.Errorf("%s.component: %d is out of range", f, d.Component)
			}
		case H, HSO4, SO4:
			if in.Phase != sx.Aqueous {
				return fmt.Errorf("%s.field: acid species on an organic inlet", f)
			}
			if d.Field != H && p.Cascade.Media != sx.Sulfate {
				return fmt.Errorf("%s.field: sulfate species in chloride media", f)
			}
		case Extractant:
			if in.Phase != sx.Organic {
				return fmt.Errorf("%s.field: extractant on an aqueous inlet", f)
			}
		default:
			return fmt.Errorf("%s.field: %d is unknown", f, d.Field)
		}
	}
	return nil
}

// Sample is the state of the cascade at one time. Per-stage slices are
// indexed by stage−1; concentrations are mol/L in the mixers.
type Sample struct {
	T          float64     // h
	Aqueous    [][]float64 // [stage][component]
	Organic    [][]float64 // [stage][component]
	H          []float64   // free H⁺, mol/L
	Extractant []float64   // free extractant, mol/L HA
	// Raffinate and Extract are the outlet concentrations (mol/L per
	// component) leaving the settlers of stage 1 (aqueous) and N
	// (organic), with their flows in L/h.
	Raffinate, Extract         []float64
	RaffinateFlow, ExtractFlow float64
}

// Stats counts the work of a run.
type Stats struct {
	Steps            int           // accepted time steps
	Rejected         int           // steps rejected by the error test or Newton failure
	NewtonIterations int           // Newton iterations over all steps
	Runtime          time.Duration // left 0 by the engine (no wall clock); the caller may fill it
}

// Result is a transient run.
type Result struct {
	Components []sx.Component
	Samples    []Sample // every Settings.OutputEvery and at the end
	// Steady is the steady state of process/sx at the inlets of the end of
	// the run (after the disturbances), the reference of the time to
	// steady state; nil when it did not converge.
	Steady *sx.Result
	// SteadyErr is why Steady is nil.
	SteadyErr error
	// Deviation is the largest deviation of the mixers from Steady at the
	// end: over stages, both phases and components, |c − c_ss| divided by
	// the component's largest steady concentration in either phase.
	Deviation float64
	// Reached is true when Deviation < ε at the end; TimeToSteady is
	// then the time after which the deviation stayed below ε (h),
	// otherwise NaN.
	Reached      bool
	TimeToSteady float64
	// In and Out are the moles of each component fed and leaving over the
	// run; Initial and Final the inventories in mixers and settlers.
	In, Out, Initial, Final []float64
	// Closure is |Final − Initial − (In − Out)| over the largest of In,
	// Initial and Final, per component: the mass balance of the run.
	Closure []float64
	Stats   Stats
}

// MaxClosure returns the largest closure error over the components.
func (r *Result) MaxClosure() float64 {
	m := 0.0
	for _, c := range r.Closure {
		m = max(m, c)
	}
	return m
}
