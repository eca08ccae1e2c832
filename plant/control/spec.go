package control

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"lodestone/internal/fielderr"
	"lodestone/process/sx"
	"lodestone/process/sx/dynamic"
)

// SpecError is a problem with a Spec, naming the offending field: its
// Error returns "control: spec: FIELD: MSG".
type SpecError = fielderr.Error[specPrefix]

// specPrefix starts the text of a SpecError.
type specPrefix struct{}

func (specPrefix) Prefix() string { return "control: spec" }

func specErr(field, format string, args ...any) *SpecError {
	return fielderr.New[specPrefix](field, format, args...)
}

// Spec is the JSON input of `lodestone plant control`
// (docs/formats/plant-control.md).
type Spec struct {
	Description string          `json:"description,omitempty"`
	Cascade     json.RawMessage `json:"cascade"`
	SampleH     *float64        `json:"sample_h"`
	Monitor     *SpecCV         `json:"monitor"`
	Product     *SpecProduct    `json:"product"`
	Strategies  []SpecStrategy  `json:"strategies"`
}

// SpecCV is a controlled or monitored variable.
type SpecCV struct {
	Stage    *int     `json:"stage"`
	Phase    *string  `json:"phase,omitempty"`
	Element  *string  `json:"element,omitempty"`
	Measure  *string  `json:"measure"`
	Setpoint *float64 `json:"setpoint,omitempty"`
	Band     *float64 `json:"band,omitempty"`
}

// SpecProduct is the product specification.
type SpecProduct struct {
	Outlet    *string  `json:"outlet"`
	Element   *string  `json:"element"`
	MinPurity *float64 `json:"min_purity"`
}

// SpecStrategy is one strategy: its loops.
type SpecStrategy struct {
	Name  *string     `json:"name"`
	PI    []SpecPI    `json:"pi,omitempty"`
	Ratio []SpecRatio `json:"ratio,omitempty"`
}

// SpecPI is one PI loop.
type SpecPI struct {
	CV         *SpecCV  `json:"cv,omitempty"`
	Setpoint   *float64 `json:"setpoint,omitempty"`
	Kp         *float64 `json:"kp"`
	TiH        *float64 `json:"ti_h"`
	DeadTimeH  *float64 `json:"dead_time_h,omitempty"`
	Manipulate *SpecMV  `json:"manipulate"`
	Min        *float64 `json:"min"`
	Max        *float64 `json:"max"`
}

// SpecMV is a manipulated inlet field ("flow_L_per_h" or
// "mg_per_L.<species>", as in sx dynamic disturbances).
type SpecMV struct {
	Inlet *int    `json:"inlet"`
	Field *string `json:"field"`
}

// SpecRatio is a ratio (feed-forward) loop on flows.
type SpecRatio struct {
	FromInlet *int     `json:"from_inlet"`
	Inlet     *int     `json:"inlet"`
	Ratio     *float64 `json:"ratio,omitempty"`
}

// ParseSpec decodes a Spec strictly.
func ParseSpec(data []byte) (*Spec, error) {
	var s Spec
	if err := fielderr.Decode[specPrefix](data, &s, fielderr.Strict{}); err != nil {
		return nil, err
	}
	return &s, nil
}

// Case is a checked Spec.
type Case struct {
	Problem Problem
	Dynamic *dynamic.Case
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Case validates the spec and builds the problem.
func (s *Spec) Case() (*Case, error) {
	if len(s.Cascade) == 0 {
		return nil, specErr("cascade", "missing")
	}
	ds, err := dynamic.ParseSpec(s.Cascade)
	if err != nil {
		return nil, fmt.Errorf("control: spec: cascade: %w", err)
	}
	dc, err := ds.Case()
	if err != nil {
		return nil, fmt.Errorf("control: spec: cascade: %w", err)
	}
	p := Problem{Cascade: dc.Problem}
	for _, c := range dc.Problem.Cascade.Components {
		p.MolarMass = append(p.MolarMass, dc.Steady.MolarMass[c.Name])
	}
	switch {
	case s.SampleH == nil:
		return nil, specErr("sample_h", "missing")
	case !finite(*s.SampleH) || *s.SampleH <= 0:
		return nil, specErr("sample_h", "%v, want a time > 0", *s.SampleH)
	case p.Cascade.Duration / *s.SampleH > 1e6:
		return nil, specErr("sample_h", "%v gives more than 10⁶ samples", *s.SampleH)
	}
	p.Sample = *s.SampleH
	if s.Monitor == nil {
		return nil, specErr("monitor", "missing")
	}
	if p.Monitor, err = s.Monitor.cv("monitor", dc); err != nil {
		return nil, err
	}
	if v := s.Monitor.Setpoint; v != nil {
		if !finite(*v) {
			return nil, specErr("monitor.setpoint", "%v is not finite", *v)
		}
		p.Setpoint = v
	}
	if v := s.Monitor.Band; v != nil {
		if !finite(*v) || *v <= 0 {
			return nil, specErr("monitor.band", "%v, want a value > 0", *v)
		}
		p.Band = *v
	}
	if err := s.product(&p, dc); err != nil {
		return nil, err
	}
	if len(s.Strategies) == 0 {
		return nil, specErr("strategies", "missing or empty")
	}
	for j, ss := range s.Strategies {
		st, err := ss.strategy(fmt.Sprintf("strategies[%d]", j), s.Monitor, dc, p.MolarMass)
		if err != nil {
			return nil, err
		}
		p.Strategies = append(p.Strategies, st)
	}
	return &Case{Problem: p, Dynamic: dc}, nil
}

func (s *Spec) product(p *Problem, dc *dynamic.Case) error {
	pr := s.Product
	switch {
	case pr == nil:
		return specErr("product", "missing")
	case pr.Outlet == nil:
		return specErr("product.outlet", "missing")
	case *pr.Outlet != "raffinate" && *pr.Outlet != "extract":
		return specErr("product.outlet", "%q is neither \"raffinate\" nor \"extract\"", *pr.Outlet)
	case pr.Element == nil:
		return specErr("product.element", "missing")
	case pr.MinPurity == nil:
		return specErr("product.min_purity", "missing")
	case !(*pr.MinPurity >= 0 && *pr.MinPurity <= 1):
		return specErr("product.min_purity", "%v is outside [0,1]", *pr.MinPurity)
	}
	i := compIndex(dc, *pr.Element)
	if i < 0 {
		return specErr("product.element", "%q is not a component of the cascade", *pr.Element)
	}
	p.Product = Product{Extract: *pr.Outlet == "extract", Comp: i, MinPurity: *pr.MinPurity}
	return nil
}

func compIndex(dc *dynamic.Case, name string) int {
	for i, c := range dc.Problem.Cascade.Components {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// cv checks a CV (field path f).
func (c *SpecCV) cv(f string, dc *dynamic.Case) (CV, error) {
	var cv CV
	N := dc.Problem.Cascade.Stages
	switch {
	case c.Stage == nil:
		return cv, specErr(f+".stage", "missing")
	case *c.Stage < 1 || *c.Stage > N:
		return cv, specErr(f+".stage", "%d is outside 1..%d", *c.Stage, N)
	case c.Measure == nil:
		return cv, specErr(f+".measure", "missing")
	}
	cv.Stage = *c.Stage
	switch *c.Measure {
	case "mg_per_L":
		cv.Measure = Conc
	case "fraction":
		cv.Measure = Fraction
	case "pH":
		cv.Measure = PH
		if c.Phase != nil && *c.Phase != "aqueous" {
			return cv, specErr(f+".phase", "pH is of the aqueous")
		}
		return cv, nil
	default:
		return cv, specErr(f+".measure", "%q is not \"mg_per_L\", \"fraction\" or \"pH\"", *c.Measure)
	}
	if c.Phase != nil {
		switch *c.Phase {
		case "aqueous":
		case "organic":
			cv.Organic = true
		default:
			return cv, specErr(f+".phase", "%q is neither \"aqueous\" nor \"organic\"", *c.Phase)
		}
	}
	if c.Element == nil {
		return cv, specErr(f+".element", "missing")
	}
	if cv.Comp = compIndex(dc, *c.Element); cv.Comp < 0 {
		return cv, specErr(f+".element", "%q is not a component of the cascade", *c.Element)
	}
	return cv, nil
}

// MV checks a manipulated variable (field path f) of the cascade dc with
// molar masses mm and converts it.
func (m *SpecMV) MV(f string, dc *dynamic.Case, mm []float64) (MV, error) { return m.mv(f, dc, mm) }

// CV checks a controlled variable (field path f) of the cascade dc.
func (c *SpecCV) CV(f string, dc *dynamic.Case) (CV, error) { return c.cv(f, dc) }

// mv checks a manipulated variable (field path f).
func (m *SpecMV) mv(f string, dc *dynamic.Case, mm []float64) (MV, error) {
	var mv MV
	inlets := dc.Problem.Cascade.Inlets
	switch {
	case m == nil:
		return mv, specErr(f, "missing")
	case m.Inlet == nil:
		return mv, specErr(f+".inlet", "missing")
	case *m.Inlet < 0 || *m.Inlet >= len(inlets):
		return mv, specErr(f+".inlet", "%d is out of range 0..%d", *m.Inlet, len(inlets)-1)
	case m.Field == nil:
		return mv, specErr(f+".field", "missing")
	}
	mv.Inlet = *m.Inlet
	in := inlets[mv.Inlet]
	if *m.Field == "flow_L_per_h" {
		mv.Field, mv.Scale = dynamic.Flow, 1
		return mv, nil
	}
	key, ok := strings.CutPrefix(*m.Field, "mg_per_L.")
	if !ok {
		return mv, specErr(f+".field", "%q is neither \"flow_L_per_h\" nor \"mg_per_L.<species>\"", *m.Field)
	}
	molar := dc.Steady.MolarMass[key]
	if i := compIndex(dc, key); i >= 0 {
		mv.Field, mv.Comp, molar = dynamic.Conc, i, mm[i]
	} else {
		switch {
		case key == "H" && in.Phase == sx.Aqueous:
			mv.Field = dynamic.H
		case (key == "HSO4" || key == "SO4") && in.Phase == sx.Aqueous:
			mv.Field = map[string]dynamic.Field{"HSO4": dynamic.HSO4, "SO4": dynamic.SO4}[key]
		case key == dc.Steady.Extractant && dc.Steady.Extractant != "" && in.Phase == sx.Organic:
			mv.Field = dynamic.Extractant
		default:
			return mv, specErr(f+".field", "%q is not a component, H, HSO4, SO4 (aqueous inlet) or the extractant (organic inlet)", key)
		}
	}
	if !(molar > 0) {
		return mv, specErr(f+".field", "no molar mass for %q", key)
	}
	mv.Scale = 1 / (1000 * molar)
	return mv, nil
}

// strategy checks one strategy (field path f); a PI loop without a cv
// controls the monitor.
func (ss SpecStrategy) strategy(f string, mon *SpecCV, dc *dynamic.Case, mm []float64) (Strategy, error) {
	var st Strategy
	if ss.Name == nil || *ss.Name == "" {
		return st, specErr(f+".name", "missing")
	}
	st.Name = *ss.Name
	for j, l := range ss.PI {
		g := fmt.Sprintf("%s.pi[%d]", f, j)
		cvs, cvf := l.CV, g+".cv"
		if cvs == nil {
			cvs, cvf = mon, "monitor"
		}
		cv, err := cvs.cv(cvf, dc)
		if err != nil {
			return st, err
		}
		pi := PI{CV: cv, Setpoint: math.NaN()}
		switch {
		case l.Setpoint != nil && !finite(*l.Setpoint):
			return st, specErr(g+".setpoint", "%v is not finite", *l.Setpoint)
		case l.Kp == nil:
			return st, specErr(g+".kp", "missing")
		case !finite(*l.Kp) || *l.Kp == 0:
			return st, specErr(g+".kp", "%v, want a finite non-zero gain", *l.Kp)
		case l.TiH == nil:
			return st, specErr(g+".ti_h", "missing")
		case !finite(*l.TiH) || *l.TiH <= 0:
			return st, specErr(g+".ti_h", "%v, want a time > 0", *l.TiH)
		case l.DeadTimeH != nil && (!finite(*l.DeadTimeH) || *l.DeadTimeH < 0 || *l.DeadTimeH > 1000):
			return st, specErr(g+".dead_time_h", "%v, want a time in [0, 1000]", *l.DeadTimeH)
		case l.Min == nil:
			return st, specErr(g+".min", "missing")
		case l.Max == nil:
			return st, specErr(g+".max", "missing")
		case !finite(*l.Min) || *l.Min < 0 || !finite(*l.Max) || *l.Max < *l.Min:
			return st, specErr(g+".max", "limits [%v, %v], want 0 ≤ min ≤ max, finite", *l.Min, *l.Max)
		}
		if l.Setpoint != nil {
			pi.Setpoint = *l.Setpoint
		} else if cvs == mon && mon.Setpoint != nil {
			pi.Setpoint = *mon.Setpoint
		}
		pi.Kp, pi.Ti, pi.Min, pi.Max = *l.Kp, *l.TiH, *l.Min, *l.Max
		if l.DeadTimeH != nil {
			pi.DeadTime = *l.DeadTimeH
		}
		if pi.MV, err = l.Manipulate.mv(g+".manipulate", dc, mm); err != nil {
			return st, err
		}
		st.PI = append(st.PI, pi)
	}
	inlets := dc.Problem.Cascade.Inlets
	for j, r := range ss.Ratio {
		g := fmt.Sprintf("%s.ratio[%d]", f, j)
		switch {
		case r.FromInlet == nil:
			return st, specErr(g+".from_inlet", "missing")
		case *r.FromInlet < 0 || *r.FromInlet >= len(inlets):
			return st, specErr(g+".from_inlet", "%d is out of range 0..%d", *r.FromInlet, len(inlets)-1)
		case r.Inlet == nil:
			return st, specErr(g+".inlet", "missing")
		case *r.Inlet < 0 || *r.Inlet >= len(inlets) || *r.Inlet == *r.FromInlet:
			return st, specErr(g+".inlet", "%d is out of range 0..%d or the from_inlet", *r.Inlet, len(inlets)-1)
		case r.Ratio != nil && (!finite(*r.Ratio) || *r.Ratio <= 0):
			return st, specErr(g+".ratio", "%v, want a value > 0", *r.Ratio)
		}
		ro := Ratio{From: *r.FromInlet, MV: MV{Inlet: *r.Inlet, Field: dynamic.Flow, Scale: 1}}
		if r.Ratio != nil {
			ro.Ratio = *r.Ratio
		}
		st.Ratio = append(st.Ratio, ro)
	}
	return st, nil
}

// Output is the JSON result of `lodestone plant control`.
type Output struct {
	Setpoint   float64          `json:"setpoint"`
	Strategies []OutputStrategy `json:"strategies"`
}

// OutputStrategy is one strategy's figures and series.
type OutputStrategy struct {
	Name          string          `json:"name"`
	IAE           float64         `json:"iae"`
	PeakDeviation float64         `json:"peak_deviation"`
	OvershootPct  float64         `json:"overshoot_pct"`
	SettlingTimeH *float64        `json:"settling_time_h"`
	TimeInSpecH   float64         `json:"time_in_spec_h"`
	InSpecFrac    float64         `json:"time_in_spec_fraction"`
	FinalPurity   float64         `json:"final_product_purity"`
	Reagents      []OutputReagent `json:"reagents"`
	Series        OutputSeries    `json:"series"`
}

// OutputReagent is the use of one inlet.
type OutputReagent struct {
	Inlet   string  `json:"inlet"`
	VolumeL float64 `json:"volume_L"`
	AcidMol float64 `json:"acid_mol"`
	BaseMol float64 `json:"saponification_mol"`
}

// OutputSeries are the sampled series: the monitored CV, the product
// purity and each loop's MV (PI loops, then ratio loops), user units.
type OutputSeries struct {
	TH     []float64   `json:"t_h"`
	CV     []float64   `json:"cv"`
	Purity []float64   `json:"product_purity"`
	MV     [][]float64 `json:"mv"`
}

// Run simulates the strategies and converts the results.
func (c *Case) Run(ctx context.Context) (*Output, error) {
	rs, err := Run(ctx, c.Problem)
	if err != nil {
		return nil, err
	}
	o := &Output{}
	for _, r := range rs {
		os := OutputStrategy{Name: r.Name, IAE: r.IAE, PeakDeviation: r.PeakDeviation, OvershootPct: r.OvershootPct,
			TimeInSpecH: r.TimeInSpec, InSpecFrac: r.TimeInSpec / r.Duration, Series: OutputSeries{TH: r.T, CV: r.CV, Purity: r.Purity, MV: r.MV}}
		if !math.IsNaN(r.SettlingTime) {
			v := r.SettlingTime
			os.SettlingTimeH = &v
		}
		if n := len(r.Purity); n > 0 {
			os.FinalPurity = r.Purity[n-1]
		}
		if os.Series.MV == nil {
			os.Series.MV = [][]float64{}
		}
		for _, g := range r.Reagents {
			os.Reagents = append(os.Reagents, OutputReagent{Inlet: g.Inlet, VolumeL: g.VolumeL, AcidMol: g.AcidMol, BaseMol: g.BaseMol})
		}
		o.Strategies = append(o.Strategies, os)
		if len(r.CV) > 0 {
			o.Setpoint = r.CV[0]
			if c.Problem.Setpoint != nil {
				o.Setpoint = *c.Problem.Setpoint
			}
		}
	}
	return o, nil
}
