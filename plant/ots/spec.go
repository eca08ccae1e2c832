package ots

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"lodestone/internal/fielderr"
	"lodestone/plant/control"
	"lodestone/process/sx/dynamic"
)

// SpecError is a problem with a scenario or an event, naming the field:
// its Error returns "ots: spec: FIELD: MSG".
type SpecError = fielderr.Error[specPrefix]

// specPrefix starts the text of a SpecError.
type specPrefix struct{}

func (specPrefix) Prefix() string { return "ots: spec" }

func specErr(field, format string, args ...any) *SpecError {
	return fielderr.New[specPrefix](field, format, args...)
}

// SessionSpec is a stored session: the scenario and the events so far
// (docs/formats/plant-training.md).
type SessionSpec struct {
	Scenario ScenarioSpec `json:"scenario"`
	Events   []EventSpec  `json:"events"`
}

// ScenarioSpec is the JSON form of a Scenario.
type ScenarioSpec struct {
	Description  string            `json:"description,omitempty"`
	Cascade      json.RawMessage   `json:"cascade"`
	Start        *dynamic.Snapshot `json:"start_snapshot,omitempty"`
	SampleH      *float64          `json:"sample_h"`
	Monitor      *SpecMonitor      `json:"monitor"`
	Product      *SpecProduct      `json:"product"`
	RespondH     *float64          `json:"respond_h,omitempty"`
	Malfunctions []SpecMalfunction `json:"malfunctions,omitempty"`
}

// SpecMonitor is the monitored variable and its alarm limits.
type SpecMonitor struct {
	control.SpecCV
	Low  *float64 `json:"low"`
	High *float64 `json:"high"`
}

// SpecProduct is the product specification (as in plant control).
type SpecProduct = control.SpecProduct

// SpecMalfunction is one malfunction.
type SpecMalfunction struct {
	AtH    *float64 `json:"at_h"`
	Kind   *string  `json:"kind"`
	Inlet  *int     `json:"inlet,omitempty"`
	Field  *string  `json:"field,omitempty"`
	Factor *float64 `json:"factor,omitempty"`
}

// EventSpec is one event of a session's log.
type EventSpec struct {
	Kind        string   `json:"kind"`
	ToH         *float64 `json:"to_h,omitempty"`
	Inlet       *int     `json:"inlet,omitempty"`
	Field       *string  `json:"field,omitempty"`
	Value       *float64 `json:"value,omitempty"`
	Malfunction *int     `json:"malfunction,omitempty"`
	Alarm       *int     `json:"alarm,omitempty"`
	Name        string   `json:"name,omitempty"`
}

// decodeStrict decodes one JSON value of type T, rejecting unknown fields
// and trailing data.
func decodeStrict[T any](data []byte) (*T, error) {
	var v T
	if err := fielderr.Decode[specPrefix](data, &v, fielderr.Strict{}); err != nil {
		return nil, err
	}
	return &v, nil
}

// ParseSession decodes a SessionSpec strictly.
func ParseSession(data []byte) (*SessionSpec, error) { return decodeStrict[SessionSpec](data) }

// ParseScenario decodes a ScenarioSpec strictly.
func ParseScenario(data []byte) (*ScenarioSpec, error) { return decodeStrict[ScenarioSpec](data) }

// ParseEvent decodes an EventSpec strictly.
func ParseEvent(data []byte) (*EventSpec, error) { return decodeStrict[EventSpec](data) }

// Case is a checked scenario with what events need to convert units.
type Case struct {
	Scenario Scenario
	Dynamic  *dynamic.Case
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Case validates the scenario.
func (s *ScenarioSpec) Case() (*Case, error) {
	if len(s.Cascade) == 0 {
		return nil, specErr("scenario.cascade", "missing")
	}
	ds, err := dynamic.ParseSpec(s.Cascade)
	if err != nil {
		return nil, fmt.Errorf("ots: spec: scenario.cascade: %w", err)
	}
	dc, err := ds.Case()
	if err != nil {
		return nil, fmt.Errorf("ots: spec: scenario.cascade: %w", err)
	}
	sc := Scenario{Cascade: dc.Problem, Start: s.Start}
	for _, c := range dc.Problem.Cascade.Components {
		sc.MolarMass = append(sc.MolarMass, dc.Steady.MolarMass[c.Name])
	}
	switch {
	case s.SampleH == nil:
		return nil, specErr("scenario.sample_h", "missing")
	case !finite(*s.SampleH) || *s.SampleH <= 0 || dc.Problem.Duration / *s.SampleH > 1e6:
		return nil, specErr("scenario.sample_h", "%v, want a time > 0 and at most 10⁶ samples", *s.SampleH)
	case s.Monitor == nil:
		return nil, specErr("scenario.monitor", "missing")
	case s.Monitor.Low == nil || !finite(*s.Monitor.Low):
		return nil, specErr("scenario.monitor.low", "missing or not finite")
	case s.Monitor.High == nil || !finite(*s.Monitor.High) || *s.Monitor.High < *s.Monitor.Low:
		return nil, specErr("scenario.monitor.high", "missing, not finite or below low")
	case s.RespondH != nil && (!finite(*s.RespondH) || *s.RespondH <= 0):
		return nil, specErr("scenario.respond_h", "%v, want a time > 0", *s.RespondH)
	}
	sc.Sample, sc.Low, sc.High = *s.SampleH, *s.Monitor.Low, *s.Monitor.High
	if s.RespondH != nil {
		sc.RespondH = *s.RespondH
	}
	if sc.Monitor, err = s.Monitor.SpecCV.CV("scenario.monitor", dc); err != nil {
		return nil, err
	}
	if err := s.product(&sc, dc); err != nil {
		return nil, err
	}
	for j, m := range s.Malfunctions {
		mf, err := m.malfunction(fmt.Sprintf("scenario.malfunctions[%d]", j), dc, sc.MolarMass)
		if err != nil {
			return nil, err
		}
		sc.Malfunctions = append(sc.Malfunctions, mf)
	}
	return &Case{Scenario: sc, Dynamic: dc}, nil
}

func (s *ScenarioSpec) product(sc *Scenario, dc *dynamic.Case) error {
	p := s.Product
	switch {
	case p == nil:
		return specErr("scenario.product", "missing")
	case p.Outlet == nil || (*p.Outlet != "raffinate" && *p.Outlet != "extract"):
		return specErr("scenario.product.outlet", "missing or neither \"raffinate\" nor \"extract\"")
	case p.MinPurity == nil || !(*p.MinPurity >= 0 && *p.MinPurity <= 1):
		return specErr("scenario.product.min_purity", "missing or outside [0,1]")
	case p.Element == nil:
		return specErr("scenario.product.element", "missing")
	}
	for i, c := range dc.Problem.Cascade.Components {
		if c.Name == *p.Element {
			sc.Product = control.Product{Extract: *p.Outlet == "extract", Comp: i, MinPurity: *p.MinPurity}
			return nil
		}
	}
	return specErr("scenario.product.element", "%q is not a component of the cascade", *p.Element)
}

func (m SpecMalfunction) malfunction(f string, dc *dynamic.Case, mm []float64) (Malfunction, error) {
	var mf Malfunction
	switch {
	case m.AtH == nil:
		return mf, specErr(f+".at_h", "missing")
	case !finite(*m.AtH) || *m.AtH < 0:
		return mf, specErr(f+".at_h", "%v, want a time ≥ 0", *m.AtH)
	case m.Kind == nil:
		return mf, specErr(f+".kind", "missing")
	case m.Factor != nil && (!finite(*m.Factor) || *m.Factor < 0):
		return mf, specErr(f+".factor", "%v, want a finite value ≥ 0", *m.Factor)
	}
	mf.AtH, mf.Kind = *m.AtH, Kind(*m.Kind)
	if m.Factor != nil {
		mf.Factor = *m.Factor
	}
	switch mf.Kind {
	case AnalyserFailure:
		return mf, nil
	case Entrainment:
		if m.Factor == nil || mf.Factor > 1 {
			return mf, specErr(f+".factor", "missing or above 1 (the entrained fraction)")
		}
		return mf, nil
	case PumpTrip, FeedUpset:
	default:
		return mf, specErr(f+".kind", "%q is not pump_trip, analyser_failure, feed_upset or entrainment", *m.Kind)
	}
	field := "flow_L_per_h"
	if m.Field != nil {
		field = *m.Field
	}
	mv, err := (&control.SpecMV{Inlet: m.Inlet, Field: &field}).MV(f, dc, mm)
	if err != nil {
		return mf, err
	}
	if mf.Kind == PumpTrip && mv.Field != dynamic.Flow {
		return mf, specErr(f+".field", "a pump trip acts on flow_L_per_h")
	}
	if mf.Kind == FeedUpset && m.Factor == nil {
		return mf, specErr(f+".factor", "missing")
	}
	mf.Inlet, mf.Field, mf.Comp = mv.Inlet, mv.Field, mv.Comp
	return mf, nil
}

// Apply applies one event (field path f, for errors) to a session.
func (c *Case) Apply(ctx context.Context, s *Session, e EventSpec, f string) error {
	switch e.Kind {
	case "advance":
		if e.ToH == nil || !finite(*e.ToH) || *e.ToH < 0 {
			return specErr(f+".to_h", "missing or not a time ≥ 0")
		}
		return s.Advance(ctx, *e.ToH)
	case "set":
		if e.Value == nil || !finite(*e.Value) || *e.Value < 0 {
			return specErr(f+".value", "missing or not a finite value ≥ 0")
		}
		mv, err := (&control.SpecMV{Inlet: e.Inlet, Field: e.Field}).MV(f, c.Dynamic, c.Scenario.MolarMass)
		if err != nil {
			return err
		}
		return s.Set(mv.Inlet, mv.Field, mv.Comp, *e.Value*mv.Scale)
	case "repair":
		if e.Malfunction == nil {
			return specErr(f+".malfunction", "missing")
		}
		return s.Repair(*e.Malfunction)
	case "acknowledge":
		if e.Alarm == nil {
			return specErr(f+".alarm", "missing")
		}
		return s.Acknowledge(*e.Alarm)
	case "freeze":
		s.Freeze()
	case "unfreeze":
		s.Unfreeze()
	case "snapshot":
		if e.Name == "" {
			return specErr(f+".name", "missing")
		}
		s.Snapshot(e.Name)
	case "backtrack":
		if e.Name == "" {
			return specErr(f+".name", "missing")
		}
		return s.Backtrack(e.Name)
	default:
		return specErr(f+".kind", "%q is not advance, set, repair, acknowledge, freeze, unfreeze, snapshot or backtrack", e.Kind)
	}
	return nil
}

// Replay builds a session from the spec and applies its events in order.
func Replay(ctx context.Context, ss *SessionSpec) (*Case, *Session, error) {
	c, err := ss.Scenario.Case()
	if err != nil {
		return nil, nil, err
	}
	s, err := New(ctx, c.Scenario)
	if err != nil {
		return nil, nil, err
	}
	for j, e := range ss.Events {
		if err := c.Apply(ctx, s, e, fmt.Sprintf("events[%d]", j)); err != nil {
			return c, s, err
		}
	}
	return c, s, nil
}

// Output is the JSON form of a session's view.
type Output struct {
	TH          float64       `json:"t_h"`
	EndH        float64       `json:"end_h"`
	Frozen      bool          `json:"frozen"`
	Monitor     float64       `json:"monitor"`
	Purity      float64       `json:"product_purity"`
	Inlets      []OutputInlet `json:"inlets"`
	Alarms      []OutputAlarm `json:"alarms"`
	Malfunction []bool        `json:"malfunctions_active"`
	Snapshots   []string      `json:"snapshots"`
	Score       OutputScore   `json:"score"`
	Events      int           `json:"events"`
}

// OutputInlet is an inlet's flow now.
type OutputInlet struct {
	Name string  `json:"name"`
	Flow float64 `json:"flow_L_per_h"`
}

// OutputAlarm is an alarm.
type OutputAlarm struct {
	TH      float64  `json:"t_h"`
	Source  string   `json:"source"`
	AckH    *float64 `json:"acknowledged_h"`
	Handled bool     `json:"handled"`
}

// OutputScore is the score.
type OutputScore struct {
	ElapsedH        float64 `json:"elapsed_h"`
	InSpecH         float64 `json:"in_spec_h"`
	InSpecFraction  float64 `json:"in_spec_fraction"`
	Alarms          int     `json:"alarms"`
	Handled         int     `json:"alarms_handled"`
	HandledFraction float64 `json:"handled_fraction"`
	ReagentMol      float64 `json:"reagent_mol"`
	BaselineMol     float64 `json:"baseline_reagent_mol"`
	ReagentRatio    float64 `json:"reagent_ratio"`
	Total           float64 `json:"total"`
}

// Output returns the session's view for JSON; events is the length of its
// log.
func (s *Session) Output(events int) *Output {
	v := s.View()
	o := &Output{TH: v.TH, EndH: v.EndH, Frozen: v.Frozen, Monitor: v.Monitor, Purity: v.Purity, Malfunction: v.Malfunction,
		Snapshots: s.Snapshots(), Events: events, Inlets: []OutputInlet{}, Alarms: []OutputAlarm{}}
	if o.Snapshots == nil {
		o.Snapshots = []string{}
	}
	for _, in := range v.Inlets {
		o.Inlets = append(o.Inlets, OutputInlet{Name: in.Name, Flow: in.Flow})
	}
	for _, a := range v.Alarms {
		oa := OutputAlarm{TH: a.TH, Source: a.Source, Handled: a.Handled}
		if a.Acked {
			h := a.AckH
			oa.AckH = &h
		}
		o.Alarms = append(o.Alarms, oa)
	}
	sc := v.Score
	o.Score = OutputScore{sc.ElapsedH, sc.InSpecH, sc.InSpecFraction, sc.Alarms, sc.Handled, sc.HandledFraction, sc.ReagentMol,
		sc.BaselineMol, sc.ReagentRatio, sc.Total}
	return o
}
