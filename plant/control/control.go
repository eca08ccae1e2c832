package control

import (
	"context"
	"errors"
	"fmt"
	"math"

	"lodestone/process/sx"
	"lodestone/process/sx/dynamic"
)

// Measure is what a CV reads.
type Measure int

// The measures: a concentration (mg/L), the mass fraction of the element
// among the non-counter-ion components, the pH of the aqueous.
const (
	Conc Measure = iota + 1
	Fraction
	PH
)

// CV is a controlled (or monitored) variable: a measure of one stage's
// mixer.
type CV struct {
	Stage   int // 1-based
	Organic bool
	Comp    int // component index (not used for PH)
	Measure Measure
}

// MV is a manipulated inlet field; Scale converts its user unit to the
// engine's (1 for flows, 1/(1000·M) for mg/L).
type MV struct {
	Inlet int
	Field dynamic.Field
	Comp  int
	Scale float64
}

// PI is one PI loop; Setpoint, Min and Max in CV and MV user units.
type PI struct {
	CV       CV
	Setpoint float64 // NaN means the CV's value at time zero
	Kp       float64 // MV units per CV unit
	Ti       float64 // h, integral time; > 0
	DeadTime float64 // h
	MV       MV
	Min, Max float64
}

// Ratio sets the flow of MV to Ratio × the flow of inlet From; Ratio 0
// means the ratio at time zero.
type Ratio struct {
	From  int
	MV    MV // Field must be dynamic.Flow
	Ratio float64
}

// Strategy is a set of loops run together; no loops is the open loop.
type Strategy struct {
	Name  string
	PI    []PI
	Ratio []Ratio
}

// Product is the specification of a product outlet.
type Product struct {
	Extract   bool // the organic outlet of the last stage, else the raffinate of stage 1
	Comp      int
	MinPurity float64 // mass fraction
}

// Problem is a comparison of strategies on one cascade and one set of
// disturbances.
type Problem struct {
	Cascade    dynamic.Problem // Duration is the run length
	Sample     float64         // h, controller period and model step
	Monitor    CV
	Setpoint   *float64 // nil: the monitor's value at time zero
	Band       float64  // settling band in CV units; 0 means 2 % of |SP|
	Product    Product
	Strategies []Strategy
	MolarMass  []float64 // g/mol per component, for mg/L
}

// Reagent is the use of one inlet over a run.
type Reagent struct {
	Inlet   string
	VolumeL float64
	AcidMol float64 // H⁺ fed (aqueous inlets)
	BaseMol float64 // counter-ions fed on the organic (saponification)
}

// Result is one strategy's run.
type Result struct {
	Name          string
	IAE           float64
	PeakDeviation float64
	OvershootPct  float64
	SettlingTime  float64 // h; NaN when not settled
	TimeInSpec    float64 // h
	Duration      float64 // h
	Reagents      []Reagent
	// Series, at every sample.
	T, CV, Purity []float64
	MV            [][]float64 // [loop][sample], PI loops then ratio loops, user units
}

// Run simulates every strategy of p.
func Run(ctx context.Context, p Problem) ([]Result, error) {
	if !(p.Sample > 0) || math.IsInf(p.Sample, 0) {
		return nil, fmt.Errorf("control: sample: %v, want a time > 0", p.Sample)
	}
	if p.Cascade.Duration/p.Sample > 1e6 {
		return nil, fmt.Errorf("control: sample: %v gives more than 10⁶ samples", p.Sample)
	}
	var out []Result
	for _, s := range p.Strategies {
		r, err := run(ctx, &p, s)
		if err != nil {
			return out, fmt.Errorf("control: strategy %q: %w", s.Name, err)
		}
		out = append(out, *r)
	}
	return out, nil
}

// Value returns the CV of a sample in user units.
func (cv CV) Value(s *dynamic.Sample, comps []sx.Component, mm []float64) float64 {
	k := cv.Stage - 1
	conc := s.Aqueous[k]
	if cv.Organic {
		conc = s.Organic[k]
	}
	switch cv.Measure {
	case PH:
		if s.H[k] > 0 {
			return -math.Log10(s.H[k])
		}
		return math.NaN()
	case Fraction:
		return purity(conc, comps, mm, cv.Comp)
	}
	return conc[cv.Comp] * 1000 * mm[cv.Comp]
}

// Purity is the mass fraction of component i among the non-counter-ion
// components of conc (mol/L); mm are the molar masses.
func Purity(conc []float64, comps []sx.Component, mm []float64, i int) float64 {
	return purity(conc, comps, mm, i)
}

func purity(conc []float64, comps []sx.Component, mm []float64, i int) float64 {
	tot := 0.0
	for j, c := range comps {
		if !c.CounterIon {
			tot += conc[j] * mm[j]
		}
	}
	if tot <= 0 {
		return 0
	}
	return conc[i] * mm[i] / tot
}

// Get returns the base value of the MV in the inlets, in user units.
func (mv MV) Get(in []sx.Inlet) float64 { return mv.get(in) }

// get returns the base value of an MV in user units.
func (mv MV) get(in []sx.Inlet) float64 {
	x := in[mv.Inlet]
	var v float64
	switch mv.Field {
	case dynamic.Flow:
		v = x.Flow
	case dynamic.Conc:
		v = x.Conc[mv.Comp]
	case dynamic.H:
		v = x.H
	case dynamic.HSO4:
		v = x.HSO4
	case dynamic.SO4:
		v = x.SO4
	case dynamic.Extractant:
		v = x.Extractant
	}
	return v / mv.Scale
}

type loopState struct {
	pi       PI
	u, ePrev float64
	started  bool
}

// run simulates one strategy.
func run(ctx context.Context, p *Problem, s Strategy) (*Result, error) {
	st, err := dynamic.NewStepper(ctx, p.Cascade, &dynamic.StepperOptions{MaxStep: p.Sample})
	if err != nil {
		return nil, err
	}
	comps := p.Cascade.Cascade.Components
	base := p.Cascade.Cascade.Inlets
	for _, l := range s.PI {
		if l.MV.Inlet < 0 || l.MV.Inlet >= len(base) || !(l.Ti > 0) || l.Max < l.Min {
			return nil, errors.New("control: PI loop: bad inlet, ti or limits")
		}
	}
	loops := make([]loopState, len(s.PI))
	for i, l := range s.PI {
		loops[i] = loopState{pi: l, u: l.MV.get(base)}
	}
	sm0 := st.Sample()
	for i := range loops {
		if math.IsNaN(loops[i].pi.Setpoint) {
			loops[i].pi.Setpoint = loops[i].pi.CV.Value(&sm0, comps, p.MolarMass)
		}
	}
	ratios := make([]float64, len(s.Ratio))
	for i, r := range s.Ratio {
		if r.From < 0 || r.From >= len(base) || r.MV.Inlet < 0 || r.MV.Inlet >= len(base) || r.MV.Field != dynamic.Flow {
			return nil, errors.New("control: ratio loop: bad inlet or field")
		}
		ratios[i] = r.Ratio
		if ratios[i] == 0 && base[r.From].Flow > 0 {
			ratios[i] = base[r.MV.Inlet].Flow / base[r.From].Flow
		}
	}
	res := &Result{Name: s.Name, Duration: p.Cascade.Duration, SettlingTime: math.NaN(), MV: make([][]float64, len(s.PI)+len(s.Ratio))}
	res.Reagents = make([]Reagent, len(base))
	for j, in := range base {
		res.Reagents[j].Inlet = in.Name
	}
	// History of every PI loop's CV for the dead time.
	hist := make([][]float64, len(s.PI))
	n := int(math.Round(p.Cascade.Duration / p.Sample))
	var sp float64
	for k := 0; k <= n; k++ {
		t := float64(k) * p.Sample
		if k > 0 {
			if err := st.Advance(ctx, t, nil); err != nil {
				return nil, err
			}
			// The inlets of the step just taken (backward Euler uses the
			// end of the step).
			dt := p.Sample
			for j, in := range st.Inlets() {
				r := &res.Reagents[j]
				r.VolumeL += dt * in.Flow
				if in.Phase == sx.Aqueous {
					r.AcidMol += dt * in.Flow * (in.H + in.HSO4)
				} else {
					for i, c := range comps {
						if c.CounterIon {
							r.BaseMol += dt * in.Flow * in.Conc[i]
						}
					}
				}
			}
		}
		sm := st.Sample()
		cv := p.Monitor.Value(&sm, comps, p.MolarMass)
		if k == 0 {
			sp = cv
			if p.Setpoint != nil {
				sp = *p.Setpoint
			}
		}
		out := sm.Raffinate
		if p.Product.Extract {
			out = sm.Extract
		}
		pur := purity(out, comps, p.MolarMass, p.Product.Comp)
		res.T, res.CV, res.Purity = append(res.T, t), append(res.CV, cv), append(res.Purity, pur)
		if k > 0 && pur >= p.Product.MinPurity {
			res.TimeInSpec += p.Sample
		}
		if k > 0 {
			res.IAE += p.Sample * math.Abs(sp-cv)
		}
		// Controllers act on what they see now, for the next step.
		for i := range loops {
			l := &loops[i]
			hist[i] = append(hist[i], l.pi.CV.Value(&sm, comps, p.MolarMass))
			lag := int(math.Round(l.pi.DeadTime / p.Sample))
			seen := hist[i][max(0, len(hist[i])-1-lag)]
			e := l.pi.Setpoint - seen
			if l.started {
				l.u += l.pi.Kp * ((e - l.ePrev) + p.Sample/l.pi.Ti*e)
			}
			l.u = min(max(l.u, l.pi.Min), l.pi.Max)
			l.ePrev, l.started = e, true
			if err := st.SetInlet(l.pi.MV.Inlet, l.pi.MV.Field, l.pi.MV.Comp, l.u*l.pi.MV.Scale); err != nil {
				return nil, err
			}
			res.MV[i] = append(res.MV[i], l.u)
		}
		in := st.Inlets()
		for i, r := range s.Ratio {
			v := ratios[i] * in[r.From].Flow
			if err := st.SetInlet(r.MV.Inlet, dynamic.Flow, 0, v); err != nil {
				return nil, err
			}
			res.MV[len(s.PI)+i] = append(res.MV[len(s.PI)+i], v)
		}
	}
	res.metrics(sp, p)
	return res, nil
}

// metrics fills the peak deviation, overshoot and settling time.
func (r *Result) metrics(sp float64, p *Problem) {
	band := p.Band
	if band <= 0 {
		band = 0.02 * math.Abs(sp)
	}
	peakAt := 0
	for k, cv := range r.CV {
		if e := cv - sp; math.Abs(e) > r.PeakDeviation {
			r.PeakDeviation, peakAt = math.Abs(e), k
		}
	}
	if r.PeakDeviation > 0 {
		sign := math.Copysign(1, r.CV[peakAt]-sp)
		over := 0.0
		for _, cv := range r.CV[peakAt:] {
			if e := (cv - sp) * sign; e < 0 {
				over = max(over, -e)
			}
		}
		r.OvershootPct = 100 * over / r.PeakDeviation
	}
	start := p.Cascade.Duration
	for _, d := range p.Cascade.Disturbances {
		start = min(start, d.Start)
	}
	last := -1
	for k, cv := range r.CV {
		if math.Abs(cv-sp) > band {
			last = k
		}
	}
	switch {
	case last < 0:
		r.SettlingTime = 0
	case last < len(r.CV)-1:
		r.SettlingTime = max(0, r.T[last+1]-start)
	}
}
