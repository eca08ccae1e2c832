package dynamic

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"lodestone/internal/fielderr"
	"lodestone/process/sx"
)

// SpecError is a problem with a Spec, naming the offending field (a JSON
// path, e.g. "disturbances[0].at_h"): its Error returns
// "dynamic: spec: FIELD: MSG".
type SpecError = fielderr.Error[specPrefix]

// specPrefix starts the text of a SpecError.
type specPrefix struct{}

func (specPrefix) Prefix() string { return "dynamic: spec" }

func specErr(field, format string, args ...any) *SpecError {
	return fielderr.New[specPrefix](field, format, args...)
}

// Spec is the JSON specification of `lodestone sx dynamic`
// (docs/formats/sx-dynamic.md): the spec of `lodestone sx simulate`
// (Cascade) plus the fields below.
type Spec struct {
	Cascade      *sx.Spec          `json:"-"`
	Holdup       *SpecHoldup       `json:"holdup"`
	DurationH    *float64          `json:"duration_h"`
	Disturbances []SpecDisturbance `json:"disturbances,omitempty"`
	OutputEveryH *float64          `json:"output_every_h,omitempty"`
	Start        *string           `json:"start,omitempty"`
	Tolerance    *float64          `json:"tolerance,omitempty"`
	SteadyTol    *float64          `json:"steady_tolerance,omitempty"`
	MaxStepH     *float64          `json:"max_step_h,omitempty"`
}

// SpecHoldup is the holdup of every stage.
type SpecHoldup struct {
	MixerL          *float64 `json:"mixer_L"`
	SettlerL        *float64 `json:"settler_L,omitempty"`
	OrganicFraction *float64 `json:"organic_fraction,omitempty"`
	SettlerCells    *int     `json:"settler_cells,omitempty"`
}

// SpecDisturbance is one disturbance of a Spec.
type SpecDisturbance struct {
	Kind   *string  `json:"kind"`
	AtH    *float64 `json:"at_h"`
	UntilH *float64 `json:"until_h,omitempty"`
	Inlet  *int     `json:"inlet"`
	Field  *string  `json:"field"`
	Value  *float64 `json:"value"`
}

// dynamicKeys are the top-level fields a Spec adds to the sx simulate spec.
//
//lodestone:readonly
var dynamicKeys = map[string]bool{"holdup": true, "duration_h": true, "disturbances": true, "output_every_h": true,
	"start": true, "tolerance": true, "steady_tolerance": true, "max_step_h": true}

// ParseSpec decodes a Spec strictly: the fields of the sx simulate spec go
// to sx.ParseSpec, the others are decoded here; unknown fields, trailing
// data and values of the wrong type are errors that name the field.
func ParseSpec(data []byte) (*Spec, error) {
	var top map[string]json.RawMessage
	if err := strict(data, "", &top); err != nil {
		return nil, err
	}
	if top == nil {
		return nil, specErr("", "want a JSON object")
	}
	mine := map[string]json.RawMessage{}
	for k, v := range top {
		if dynamicKeys[k] {
			mine[k] = v
			delete(top, k)
		}
	}
	rest, err := json.Marshal(top)
	if err != nil {
		return nil, specErr("", "%v", err)
	}
	cs, err := sx.ParseSpec(rest)
	if err != nil {
		return nil, err
	}
	s := &Spec{Cascade: cs}
	// Fields in sorted order, not map order, so that of several bad ones the
	// same is reported every time.
	for _, k := range slices.Sorted(maps.Keys(mine)) {
		raw := mine[k]
		var err error
		switch k {
		case "holdup":
			err = strict(raw, "holdup.", &s.Holdup)
		case "disturbances":
			var list []json.RawMessage
			if err = strict(raw, "disturbances", &list); err != nil {
				break
			}
			s.Disturbances = make([]SpecDisturbance, len(list))
			for i, r := range list {
				if err = strict(r, fmt.Sprintf("disturbances[%d].", i), &s.Disturbances[i]); err != nil {
					break
				}
			}
		case "duration_h":
			err = strict(raw, k, &s.DurationH)
		case "output_every_h":
			err = strict(raw, k, &s.OutputEveryH)
		case "start":
			err = strict(raw, k, &s.Start)
		case "tolerance":
			err = strict(raw, k, &s.Tolerance)
		case "steady_tolerance":
			err = strict(raw, k, &s.SteadyTol)
		case "max_step_h":
			err = strict(raw, k, &s.MaxStepH)
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// strict decodes the JSON value data into dst strictly, naming fields
// after path ("holdup.", "disturbances[2]."; "" at the top level).
func strict(data []byte, path string, dst any) error {
	return fielderr.Decode[specPrefix](data, dst, fielderr.Strict{Path: path, Offset: true})
}

// Case is a Spec turned into an engine Problem and Settings, with the
// steady-state case that converts results to mg/L.
type Case struct {
	Problem  Problem
	Settings Settings
	Steady   *sx.Case
}

// Case validates the spec and builds the problem.
func (s *Spec) Case() (*Case, error) {
	if s.Cascade == nil {
		return nil, specErr("", "no cascade")
	}
	sc, err := s.Cascade.Case()
	if err != nil {
		return nil, err
	}
	c := &Case{Steady: sc, Problem: Problem{Cascade: sc.Problem}}
	if s.Holdup == nil {
		return nil, specErr("holdup", "missing")
	}
	if err := s.Holdup.holdup(&c.Problem.Holdup); err != nil {
		return nil, err
	}
	if s.DurationH == nil {
		return nil, specErr("duration_h", "missing")
	}
	if v := *s.DurationH; !finite(v) || v <= 0 {
		return nil, specErr("duration_h", "%v, want a time > 0", v)
	}
	c.Problem.Duration = *s.DurationH
	for _, e := range []error{
		positive("output_every_h", s.OutputEveryH, &c.Settings.OutputEvery),
		positive("tolerance", s.Tolerance, &c.Settings.Tolerance),
		positive("steady_tolerance", s.SteadyTol, &c.Settings.SteadyTolerance),
		positive("max_step_h", s.MaxStepH, &c.Settings.MaxStep),
	} {
		if e != nil {
			return nil, e
		}
	}
	if c.Settings.OutputEvery > 0 && c.Problem.Duration/c.Settings.OutputEvery > 100000 {
		return nil, specErr("output_every_h", "%v gives more than 100000 samples", c.Settings.OutputEvery)
	}
	if s.Start != nil {
		switch *s.Start {
		case "empty":
			c.Problem.Start = Empty
		case "steady-state":
			c.Problem.Start = SteadyState
		default:
			return nil, specErr("start", "%q is neither \"empty\" nor \"steady-state\"", *s.Start)
		}
	}
	comps := map[string]int{}
	for i, comp := range sc.Problem.Components {
		comps[comp.Name] = i
	}
	for j, d := range s.Disturbances {
		pd, err := d.disturbance(fmt.Sprintf("disturbances[%d]", j), sc, comps)
		if err != nil {
			return nil, err
		}
		c.Problem.Disturbances = append(c.Problem.Disturbances, pd)
	}
	if err := c.Problem.Validate(); err != nil {
		return nil, specErr("", "%s", strings.TrimPrefix(err.Error(), "dynamic: "))
	}
	return c, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// positive copies *p to *dst if p is set, and fails unless it is finite and
// positive.
func positive(field string, p *float64, dst *float64) error {
	if p == nil {
		return nil
	}
	if v := *p; !finite(v) || v <= 0 {
		return specErr(field, "%v, want a value > 0", v)
	}
	*dst = *p
	return nil
}

// holdup checks the holdup and sets dst.
func (h *SpecHoldup) holdup(dst *Holdup) error {
	if h.MixerL == nil {
		return specErr("holdup.mixer_L", "missing")
	}
	if v := *h.MixerL; !finite(v) || v <= 0 {
		return specErr("holdup.mixer_L", "%v, want a volume > 0", v)
	}
	dst.Mixer = *h.MixerL
	if h.SettlerL != nil {
		if v := *h.SettlerL; !finite(v) || v < 0 {
			return specErr("holdup.settler_L", "%v, want a volume ≥ 0", v)
		}
		dst.Settler = *h.SettlerL
	}
	if h.OrganicFraction != nil {
		if v := *h.OrganicFraction; !finite(v) || v <= 0 || v >= 1 {
			return specErr("holdup.organic_fraction", "%v is outside (0,1)", v)
		}
		dst.OrganicFraction = *h.OrganicFraction
	}
	if h.SettlerCells != nil {
		if v := *h.SettlerCells; v < 1 || v > 100 {
			return specErr("holdup.settler_cells", "%d is outside 1..100", v)
		}
		dst.SettlerCells = *h.SettlerCells
	}
	return nil
}

// disturbance checks one disturbance (field path f) of the cascade sc, whose
// components are indexed by comps, and converts it to the engine's units.
func (d SpecDisturbance) disturbance(f string, sc *sx.Case, comps map[string]int) (Disturbance, error) {
	var pd Disturbance
	if d.Kind == nil {
		return pd, specErr(f+".kind", "missing")
	}
	switch *d.Kind {
	case "step":
		pd.Kind = Step
	case "ramp":
		pd.Kind = Ramp
	default:
		return pd, specErr(f+".kind", "%q is neither \"step\" nor \"ramp\"", *d.Kind)
	}
	if d.AtH == nil {
		return pd, specErr(f+".at_h", "missing")
	}
	if v := *d.AtH; !finite(v) || v < 0 {
		return pd, specErr(f+".at_h", "%v, want a time ≥ 0", v)
	}
	pd.Start = *d.AtH
	if d.UntilH != nil {
		if v := *d.UntilH; !finite(v) || v <= pd.Start {
			return pd, specErr(f+".until_h", "%v, want a time after at_h (%v)", v, pd.Start)
		}
		pd.End = *d.UntilH
	} else if pd.Kind == Ramp {
		return pd, specErr(f+".until_h", "missing (a ramp needs an end)")
	}
	if d.Inlet == nil {
		return pd, specErr(f+".inlet", "missing")
	}
	if v := *d.Inlet; v < 0 || v >= len(sc.Problem.Inlets) {
		return pd, specErr(f+".inlet", "%d is out of range 0..%d", v, len(sc.Problem.Inlets)-1)
	}
	pd.Inlet = *d.Inlet
	in := sc.Problem.Inlets[pd.Inlet]
	if d.Value == nil {
		return pd, specErr(f+".value", "missing")
	}
	if v := *d.Value; !finite(v) || v < 0 {
		return pd, specErr(f+".value", "%v, want a finite value ≥ 0", v)
	}
	if d.Field == nil {
		return pd, specErr(f+".field", "missing")
	}
	field := *d.Field
	key, isConc := strings.CutPrefix(field, "mg_per_L.")
	switch {
	case field == "flow_L_per_h":
		pd.Field, pd.Value = Flow, *d.Value
	case isConc:
		mm := sc.MolarMass[key]
		i, isComp := comps[key]
		switch {
		case isComp:
			pd.Field, pd.Component = Conc, i
		case key == "H" || key == "HSO4" || key == "SO4":
			if in.Phase != sx.Aqueous {
				return pd, specErr(f+".field", "%s on an organic inlet", key)
			}
			if key != "H" && sc.Problem.Media != sx.Sulfate {
				return pd, specErr(f+".field", "%s in chloride media", key)
			}
			pd.Field = map[string]Field{"H": H, "HSO4": HSO4, "SO4": SO4}[key]
		case sc.Extractant != "" && (key == sc.Extractant || mm > 0 && !isSpectator(sc, key)):
			if in.Phase != sx.Organic {
				return pd, specErr(f+".field", "extractant %s on an aqueous inlet", key)
			}
			pd.Field = Extractant
			if mm == 0 {
				mm = sc.MolarMass[sc.Extractant]
			}
		default:
			return pd, specErr(f+".field", "%q is not a modelled species of the cascade (a component, H, HSO4, SO4 or the extractant of an inlet)", key)
		}
		if !(mm > 0) {
			return pd, specErr(f+".field", "no molar mass for %q", key)
		}
		pd.Value = *d.Value / 1000 / mm
	default:
		return pd, specErr(f+".field", "%q is neither \"flow_L_per_h\" nor \"mg_per_L.<species>\"", field)
	}
	return pd, nil
}

func isSpectator(sc *sx.Case, key string) bool {
	for _, s := range sc.Spectators {
		if s == key {
			return true
		}
	}
	return false
}
