package estimate

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"lodestone/internal/fielderr"
	"lodestone/process/sx/dynamic"
)

// SpecError is a problem with a Spec, naming the offending field (a JSON
// path, e.g. "measurements[3].t_h"): its Error returns
// "estimate: spec: FIELD: MSG".
type SpecError = fielderr.Error[specPrefix]

// specPrefix starts the text of a SpecError.
type specPrefix struct{}

func (specPrefix) Prefix() string { return "estimate: spec" }

func specErr(field, format string, args ...any) *SpecError {
	return fielderr.New[specPrefix](field, format, args...)
}

// Spec is the JSON input of `lodestone plant estimate`
// (docs/formats/plant-estimate.md).
type Spec struct {
	// Description is free text (where the data come from); not used.
	Description  string            `json:"description,omitempty"`
	Cascade      json.RawMessage   `json:"cascade"`
	Sensors      []SpecSensor      `json:"sensors"`
	Measurements []SpecMeasurement `json:"measurements"`
	Alarm        *SpecAlarm        `json:"alarm,omitempty"`
	Noise        *SpecNoise        `json:"noise,omitempty"`
	MaxStepH     *float64          `json:"max_step_h,omitempty"`
	MHE          *SpecMHE          `json:"mhe,omitempty"`
}

// SpecMHE asks for a moving-horizon estimate over the last WindowH hours
// of the data, after the filter has run (Filter.MHE).
type SpecMHE struct {
	WindowH    *float64 `json:"window_h,omitempty"`
	Iterations *int     `json:"iterations,omitempty"`
}

// SpecSensor is one sensor of a Spec.
type SpecSensor struct {
	ID       *string  `json:"id"`
	Stage    *int     `json:"stage"`
	Phase    *string  `json:"phase"`
	Element  *string  `json:"element"`
	SDMgPerL *float64 `json:"sd_mg_per_L"`
	DelayH   *float64 `json:"delay_h,omitempty"`
}

// SpecMeasurement is one reading of a Spec: the sensor's id, the sample
// time and the value in mg/L.
type SpecMeasurement struct {
	TH     *float64 `json:"t_h"`
	Sensor *string  `json:"sensor"`
	Value  *float64 `json:"value"`
}

// SpecAlarm holds the detector settings; absent fields take the defaults.
type SpecAlarm struct {
	NISWindow *int     `json:"nis_window,omitempty"`
	NISAlpha  *float64 `json:"nis_alpha,omitempty"`
	CusumK    *float64 `json:"cusum_k,omitempty"`
	CusumH    *float64 `json:"cusum_h,omitempty"`
}

// SpecNoise holds the process and initial noise; absent fields take the
// defaults.
type SpecNoise struct {
	StateRel     *float64 `json:"state_rel_per_sqrt_h,omitempty"`
	Log          *float64 `json:"log_per_sqrt_h,omitempty"`
	Parameter    *float64 `json:"parameter_per_sqrt_h,omitempty"`
	InitialRel   *float64 `json:"initial_rel,omitempty"`
	InitialLog   *float64 `json:"initial_log,omitempty"`
	InitialParam *float64 `json:"initial_parameter,omitempty"`
}

// ParseSpec decodes a Spec strictly: unknown fields, trailing data and
// values of the wrong type are errors naming the field. The cascade is
// checked by Case.
func ParseSpec(data []byte) (*Spec, error) {
	var s Spec
	if err := fielderr.Decode[specPrefix](data, &s, fielderr.Strict{Offset: true}); err != nil {
		return nil, err
	}
	return &s, nil
}

// Case is a checked Spec: the cascade, the sensors and measurements in
// engine units (mol/L), the options and the molar masses for output.
type Case struct {
	Cascade      *dynamic.Case
	Sensors      []Sensor
	Measurements []Measurement // in the spec's (sample-time) order
	Options      Options
	MHE          *MHEOptions // nil: no moving-horizon estimate
	molarMass    []float64   // g/mol per component
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Case validates the spec.
func (s *Spec) Case() (*Case, error) {
	if len(s.Cascade) == 0 {
		return nil, specErr("cascade", "missing")
	}
	ds, err := dynamic.ParseSpec(s.Cascade)
	if err != nil {
		return nil, fmt.Errorf("estimate: spec: cascade: %w", err)
	}
	dc, err := ds.Case()
	if err != nil {
		return nil, fmt.Errorf("estimate: spec: cascade: %w", err)
	}
	c := &Case{Cascade: dc}
	comps := dc.Problem.Cascade.Components
	for _, comp := range comps {
		c.molarMass = append(c.molarMass, dc.Steady.MolarMass[comp.Name])
	}
	ids := map[string]int{}
	if len(s.Sensors) == 0 {
		return nil, specErr("sensors", "missing or empty")
	}
	for j, ss := range s.Sensors {
		sen, err := ss.sensor(fmt.Sprintf("sensors[%d]", j), dc, c.molarMass)
		if err != nil {
			return nil, err
		}
		if _, dup := ids[sen.ID]; dup {
			return nil, specErr(fmt.Sprintf("sensors[%d].id", j), "%q is used twice", sen.ID)
		}
		ids[sen.ID] = j
		c.Sensors = append(c.Sensors, sen)
	}
	last := 0.0
	for j, m := range s.Measurements {
		f := fmt.Sprintf("measurements[%d]", j)
		switch {
		case m.TH == nil:
			return nil, specErr(f+".t_h", "missing")
		case !finite(*m.TH) || *m.TH < 0:
			return nil, specErr(f+".t_h", "%v, want a finite time ≥ 0", *m.TH)
		case *m.TH < last:
			return nil, specErr(f+".t_h", "%v is before measurements[%d].t_h (%v): measurements must be sorted by sample time", *m.TH, j-1, last)
		case m.Sensor == nil:
			return nil, specErr(f+".sensor", "missing")
		case m.Value == nil:
			return nil, specErr(f+".value", "missing")
		case !finite(*m.Value):
			return nil, specErr(f+".value", "%v is not finite", *m.Value)
		}
		k, ok := ids[*m.Sensor]
		if !ok {
			return nil, specErr(f+".sensor", "%q is not the id of a sensor", *m.Sensor)
		}
		last = *m.TH
		c.Measurements = append(c.Measurements, Measurement{T: *m.TH, Sensor: k, Value: *m.Value / 1000 / c.molarMass[c.Sensors[k].Comp]})
	}
	if err := s.options(&c.Options); err != nil {
		return nil, err
	}
	if m := s.MHE; m != nil {
		c.MHE = &MHEOptions{Window: 1, Iterations: 10}
		if m.WindowH != nil {
			if !finite(*m.WindowH) || *m.WindowH <= 0 {
				return nil, specErr("mhe.window_h", "%v, want a finite time > 0", *m.WindowH)
			}
			c.MHE.Window = *m.WindowH
		}
		if m.Iterations != nil {
			if *m.Iterations < 1 || *m.Iterations > 1000 {
				return nil, specErr("mhe.iterations", "%d is outside 1..1000", *m.Iterations)
			}
			c.MHE.Iterations = *m.Iterations
		}
		// The window's start is a checkpoint: keep them that long.
		delay := 0.0
		for _, sen := range c.Sensors {
			delay = max(delay, sen.Delay)
		}
		c.Options.Horizon = max(c.Options.Horizon, 2*delay, c.MHE.Window)
	}
	return c, nil
}

// sensor checks one sensor (field path f) and converts it to mol/L.
func (ss SpecSensor) sensor(f string, dc *dynamic.Case, mm []float64) (Sensor, error) {
	var sen Sensor
	switch {
	case ss.ID == nil || *ss.ID == "":
		return sen, specErr(f+".id", "missing")
	case ss.Stage == nil:
		return sen, specErr(f+".stage", "missing")
	case *ss.Stage < 1 || *ss.Stage > dc.Problem.Cascade.Stages:
		return sen, specErr(f+".stage", "%d is outside 1..%d", *ss.Stage, dc.Problem.Cascade.Stages)
	case ss.Phase == nil:
		return sen, specErr(f+".phase", "missing")
	case *ss.Phase != "aqueous" && *ss.Phase != "organic":
		return sen, specErr(f+".phase", "%q is neither \"aqueous\" nor \"organic\"", *ss.Phase)
	case ss.Element == nil:
		return sen, specErr(f+".element", "missing")
	case ss.SDMgPerL == nil:
		return sen, specErr(f+".sd_mg_per_L", "missing")
	case !finite(*ss.SDMgPerL) || *ss.SDMgPerL <= 0:
		return sen, specErr(f+".sd_mg_per_L", "%v, want a finite value > 0", *ss.SDMgPerL)
	case ss.DelayH != nil && (!finite(*ss.DelayH) || *ss.DelayH < 0):
		return sen, specErr(f+".delay_h", "%v, want a finite time ≥ 0", *ss.DelayH)
	}
	comp := componentIndex(dc.Problem.Cascade.Components, *ss.Element)
	if comp < 0 {
		return sen, specErr(f+".element", "%q is not a component of the cascade", *ss.Element)
	}
	if !(mm[comp] > 0) {
		return sen, specErr(f+".element", "no molar mass for %q", *ss.Element)
	}
	sen = Sensor{ID: *ss.ID, Stage: *ss.Stage, Comp: comp, Organic: *ss.Phase == "organic", SD: *ss.SDMgPerL / 1000 / mm[comp]}
	if ss.DelayH != nil {
		sen.Delay = *ss.DelayH
	}
	return sen, nil
}

// options fills o from the alarm and noise sections.
func (s *Spec) options(o *Options) error {
	pos := func(field string, p *float64, dst *float64) error {
		if p == nil {
			return nil
		}
		if !finite(*p) || *p <= 0 {
			return specErr(field, "%v, want a finite value > 0", *p)
		}
		*dst = *p
		return nil
	}
	errs := []error{pos("max_step_h", s.MaxStepH, &o.MaxStep)}
	if a := s.Alarm; a != nil {
		if a.NISWindow != nil {
			if *a.NISWindow < 1 || *a.NISWindow > 100000 {
				return specErr("alarm.nis_window", "%d is outside 1..100000", *a.NISWindow)
			}
			o.NISWindow = *a.NISWindow
		}
		if a.NISAlpha != nil && !(*a.NISAlpha > 0 && *a.NISAlpha < 1) {
			return specErr("alarm.nis_alpha", "%v is outside (0,1)", *a.NISAlpha)
		}
		errs = append(errs, pos("alarm.nis_alpha", a.NISAlpha, &o.NISAlpha), pos("alarm.cusum_k", a.CusumK, &o.CusumK),
			pos("alarm.cusum_h", a.CusumH, &o.CusumH))
	}
	if n := s.Noise; n != nil {
		errs = append(errs, pos("noise.state_rel_per_sqrt_h", n.StateRel, &o.StateNoise), pos("noise.log_per_sqrt_h", n.Log, &o.LogNoise),
			pos("noise.parameter_per_sqrt_h", n.Parameter, &o.ParamNoise), pos("noise.initial_rel", n.InitialRel, &o.InitialRel),
			pos("noise.initial_log", n.InitialLog, &o.InitialLog), pos("noise.initial_parameter", n.InitialParam, &o.InitialParam))
	}
	return errors.Join(errs...)
}

// MolPerL converts a reading of sensor k (an index into c.Sensors) from
// mg/L to the filter's mol/L.
func (c *Case) MolPerL(k int, mgPerL float64) float64 {
	return mgPerL / 1000 / c.molarMass[c.Sensors[k].Comp]
}

// Components returns the names of the cascade's components, in the order
// of an Estimate's columns.
func (c *Case) Components() []string {
	var out []string
	for _, comp := range c.Cascade.Problem.Cascade.Components {
		out = append(out, comp.Name)
	}
	return out
}

// Stage converts one stage of an estimate (mol/L, [component]) to mg/L
// by component name.
func (c *Case) Stage(molPerL []float64) map[string]float64 {
	out := make(map[string]float64, len(molPerL))
	for i, comp := range c.Cascade.Problem.Cascade.Components {
		out[comp.Name] = molPerL[i] * 1000 * c.molarMass[i]
	}
	return out
}

// Output is the JSON result of `lodestone plant estimate`.
type Output struct {
	Estimates   []OutputEstimate   `json:"estimates"`
	Innovations []OutputInnovation `json:"innovations"`
	Alarms      []OutputAlarm      `json:"alarms"`
	MHE         *OutputMHE         `json:"mhe,omitempty"`
}

// OutputMHE is the moving-horizon estimate at the end of the data.
type OutputMHE struct {
	OutputEstimate
	StartH       float64 `json:"window_start_h"`
	Measurements int     `json:"measurements"`
	Cost         float64 `json:"cost"`
	PriorCost    float64 `json:"prior_cost"`
	Iterations   int     `json:"iterations"`
	Bound        int     `json:"bound"`
}

// OutputEstimate is the estimate after the measurements of one sample time.
type OutputEstimate struct {
	TH        float64            `json:"t_h"`
	Certified bool               `json:"certified"`
	Stages    []OutputStage      `json:"stages"`
	Theta     map[string]float64 `json:"theta"`
}

// OutputStage is one stage's mixer, mg/L per element.
type OutputStage struct {
	Stage   int                `json:"stage"`
	Aqueous map[string]float64 `json:"aqueous_mg_per_L"`
	Organic map[string]float64 `json:"organic_mg_per_L"`
}

// OutputInnovation is one innovation, mg/L and (mg/L)².
type OutputInnovation struct {
	TH     float64 `json:"t_h"`
	Sensor string  `json:"sensor"`
	Nu     float64 `json:"nu"`
	S      float64 `json:"s"`
}

// OutputAlarm is one alarm; Sensor is null for out_of_sync.
type OutputAlarm struct {
	TH     float64 `json:"t_h"`
	Kind   Kind    `json:"kind"`
	Sensor *string `json:"sensor"`
}

// Run filters the measurements of c offline: they are fed in order of
// arrival (sample time plus the sensor's delay; ties keep the spec's
// order), as they would reach a live filter.
func (c *Case) Run(ctx context.Context) (*Output, error) {
	f, err := New(ctx, c.Cascade.Problem, c.Sensors, &c.Options)
	if err != nil {
		return nil, err
	}
	order := slices.Clone(c.Measurements)
	arrival := func(m Measurement) float64 { return m.T + c.Sensors[m.Sensor].Delay }
	slices.SortStableFunc(order, func(a, b Measurement) int { return cmp.Compare(arrival(a), arrival(b)) })
	for _, m := range order {
		if _, err := f.Add(ctx, m); err != nil {
			return nil, err
		}
	}
	out := c.Output(f)
	if c.MHE != nil {
		r, err := f.MHE(ctx, c.MHE)
		if errors.Is(err, ErrNoWindow) {
			return nil, specErr("mhe.window_h", "%g h is longer than the data (the filter reached %g h)", c.MHE.Window, f.Time())
		}
		if err != nil {
			return nil, err
		}
		out.MHE = &OutputMHE{OutputEstimate: c.outputEstimate(r.Estimate), StartH: r.Start, Measurements: r.Measurements,
			Cost: r.Cost, PriorCost: r.Prior, Iterations: r.Iterations, Bound: r.Bound}
	}
	return out, nil
}

// outputEstimate converts one estimate to mg/L.
func (c *Case) outputEstimate(e Estimate) OutputEstimate {
	comps := c.Cascade.Problem.Cascade.Components
	oe := OutputEstimate{TH: e.T, Certified: e.Certified, Theta: map[string]float64{}}
	for k := range e.Aqueous {
		st := OutputStage{Stage: k + 1, Aqueous: map[string]float64{}, Organic: map[string]float64{}}
		for i, comp := range comps {
			st.Aqueous[comp.Name] = e.Aqueous[k][i] * 1000 * c.molarMass[i]
			st.Organic[comp.Name] = e.Organic[k][i] * 1000 * c.molarMass[i]
		}
		oe.Stages = append(oe.Stages, st)
	}
	for i, comp := range comps {
		oe.Theta[comp.Name] = e.Theta[i]
	}
	return oe
}

// Output converts the filter's record to mg/L.
func (c *Case) Output(f *Filter) *Output {
	o := &Output{Estimates: []OutputEstimate{}, Innovations: []OutputInnovation{}, Alarms: []OutputAlarm{}}
	for _, e := range f.Estimates() {
		o.Estimates = append(o.Estimates, c.outputEstimate(e))
	}
	ids := map[string]float64{}
	for _, s := range c.Sensors {
		ids[s.ID] = 1000 * c.molarMass[s.Comp]
	}
	for _, in := range f.Innovations() {
		k := ids[in.Sensor]
		o.Innovations = append(o.Innovations, OutputInnovation{TH: in.T, Sensor: in.Sensor, Nu: in.Nu * k, S: in.S * k * k})
	}
	for _, a := range f.Alarms() {
		oa := OutputAlarm{TH: a.T, Kind: a.Kind}
		if a.Sensor != "" {
			s := a.Sensor
			oa.Sensor = &s
		}
		o.Alarms = append(o.Alarms, oa)
	}
	return o
}
