package ots

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"lodestone/plant/control"
	"lodestone/process/sx"
	"lodestone/process/sx/dynamic"
)

// ErrFrozen reports an advance of a frozen session. Checked with errors.Is.
var ErrFrozen = errors.New("ots: session is frozen")

// Kind is the kind of a malfunction.
type Kind string

// The malfunctions an instructor can inject.
const (
	PumpTrip        Kind = "pump_trip"        // an inlet's flow drops to Factor × its value (0: stopped)
	AnalyserFailure Kind = "analyser_failure" // the monitor's display freezes at its last value
	FeedUpset       Kind = "feed_upset"       // an inlet's concentration (or flow) is multiplied by Factor
	Entrainment     Kind = "entrainment"      // Factor of the other phase is carried into the product outlet
)

// Malfunction is injected at AtH hours (taking effect at the first sample
// at or after it).
type Malfunction struct {
	AtH    float64
	Kind   Kind
	Inlet  int           // pump_trip, feed_upset
	Field  dynamic.Field // feed_upset: Flow or Conc
	Comp   int           // feed_upset with Conc
	Factor float64
}

// Scenario is a training exercise: the cascade and where it starts, the
// malfunctions, what the trainee watches and how the run is scored.
type Scenario struct {
	Cascade   dynamic.Problem // Duration is the session's length
	Start     *dynamic.Snapshot
	Sample    float64 // h, model step and display interval
	Monitor   control.CV
	Low, High float64 // alarm limits of the monitor (user units)
	Product   control.Product
	MolarMass []float64
	// RespondH is the time within which an alarm must be acknowledged to
	// count as handled; 0 means 0.5 h.
	RespondH     float64
	Malfunctions []Malfunction
}

// Alarm is raised by a malfunction or by the monitor leaving its limits.
type Alarm struct {
	TH      float64
	Source  string
	Acked   bool
	AckH    float64
	Handled bool // acknowledged within RespondH
}

// Score is the trainee's result so far. Total = 100·(0.6·InSpecFraction
// + 0.3·HandledFraction + 0.1·ReagentRatio).
type Score struct {
	ElapsedH        float64
	InSpecH         float64
	InSpecFraction  float64
	Alarms          int
	Handled         int
	HandledFraction float64 // 1 when there were no alarms
	ReagentMol      float64 // acid and saponification cation fed, mol
	BaselineMol     float64 // the same at the start's inlet rates over the elapsed time
	ReagentRatio    float64 // min(1, Baseline/Reagent)
	Total           float64
}

// state is everything of a session besides the model, copied whole by a
// snapshot.
type state struct {
	k           int // samples taken
	started     []bool
	active      []bool
	restore     []float64 // the field's value before a pump trip or feed upset
	display     float64   // monitor as displayed (frozen by an analyser failure)
	entrain     float64
	outOfLimits bool
	alarms      []Alarm
	inSpecH     float64
	reagentMol  float64
}

func (s state) clone() state {
	s.started, s.active, s.restore = slices.Clone(s.started), slices.Clone(s.active), slices.Clone(s.restore)
	s.alarms = slices.Clone(s.alarms)
	return s
}

// Session is a running exercise. It is not safe for concurrent use.
type Session struct {
	sc       Scenario
	st       *dynamic.Stepper
	s        state
	frozen   bool
	baseRate float64 // mol/h of reagents at the start
	snaps    map[string]savedState
}

type savedState struct {
	model *dynamic.Snapshot
	s     state
}

// New starts a session at time zero (or at the start snapshot's time).
func New(ctx context.Context, sc Scenario) (*Session, error) {
	if !(sc.Sample > 0) || math.IsInf(sc.Sample, 0) || sc.Cascade.Duration/sc.Sample > 1e6 {
		return nil, fmt.Errorf("ots: sample: %v, want a time > 0 and at most 10⁶ samples", sc.Sample)
	}
	for i, m := range sc.Malfunctions {
		if (m.Kind == PumpTrip || m.Kind == FeedUpset) && (m.Inlet < 0 || m.Inlet >= len(sc.Cascade.Cascade.Inlets)) {
			return nil, fmt.Errorf("ots: malfunctions[%d].inlet: %d is out of range", i, m.Inlet)
		}
	}
	st, err := dynamic.NewStepper(ctx, sc.Cascade, &dynamic.StepperOptions{MaxStep: sc.Sample})
	if err != nil {
		return nil, err
	}
	if sc.Start != nil {
		if err := st.Restore(sc.Start); err != nil {
			return nil, err
		}
	}
	if sc.RespondH <= 0 {
		sc.RespondH = 0.5
	}
	n := len(sc.Malfunctions)
	s := &Session{sc: sc, st: st, snaps: map[string]savedState{},
		s: state{started: make([]bool, n), active: make([]bool, n), restore: make([]float64, n)}}
	s.baseRate = s.reagentRate()
	sm := st.Sample()
	s.s.display = sc.Monitor.Value(&sm, sc.Cascade.Cascade.Components, sc.MolarMass)
	return s, nil
}

// Time returns the session's time, h.
func (s *Session) Time() float64 { return s.st.Time() }

// End returns the session's end, h.
func (s *Session) End() float64 { return s.sc.Cascade.Duration }

// Frozen reports whether the session is frozen.
func (s *Session) Frozen() bool { return s.frozen }

// Freeze stops the clock: Advance fails until Unfreeze.
func (s *Session) Freeze() { s.frozen = true }

// Unfreeze restarts the clock.
func (s *Session) Unfreeze() { s.frozen = false }

// reagentRate is the acid and saponification cation fed now, mol/h.
func (s *Session) reagentRate() float64 {
	comps := s.sc.Cascade.Cascade.Components
	r := 0.0
	for _, in := range s.st.Inlets() {
		if in.Phase == sx.Aqueous {
			r += in.Flow * (in.H + in.HSO4)
			continue
		}
		for i, c := range comps {
			if c.CounterIon {
				r += in.Flow * in.Conc[i]
			}
		}
	}
	return r
}

// Advance runs the model sample by sample to t (h, clamped to the end),
// as fast as it computes.
func (s *Session) Advance(ctx context.Context, t float64) error {
	if s.frozen {
		return ErrFrozen
	}
	if math.IsNaN(t) {
		return errors.New("ots: advance to NaN")
	}
	t = min(t, s.sc.Cascade.Duration)
	for {
		next := float64(s.s.k+1) * s.sc.Sample
		if s.sc.Start != nil {
			next += s.sc.Start.T
		}
		if next > t+1e-9*max(1, t) {
			return nil
		}
		if err := s.step(ctx, next); err != nil {
			return err
		}
	}
}

// step injects the malfunctions due, takes one sample and updates the
// display, the alarms and the score.
func (s *Session) step(ctx context.Context, next float64) error {
	now := s.st.Time()
	for i, m := range s.sc.Malfunctions {
		if !s.s.started[i] && m.AtH <= now+1e-9 {
			if err := s.inject(i); err != nil {
				return err
			}
		}
	}
	if err := s.st.Advance(ctx, next, nil); err != nil {
		return err
	}
	s.s.k++
	dt := s.sc.Sample
	s.s.reagentMol += dt * s.reagentRate()
	sm := s.st.Sample()
	comps := s.sc.Cascade.Cascade.Components
	cv := s.sc.Monitor.Value(&sm, comps, s.sc.MolarMass)
	if !s.analyserFailed() {
		s.s.display = cv
	}
	if s.purity(&sm) >= s.sc.Product.MinPurity {
		s.s.inSpecH += dt
	}
	out := cv < s.sc.Low || cv > s.sc.High
	if out && !s.s.outOfLimits {
		s.s.alarms = append(s.s.alarms, Alarm{TH: s.st.Time(), Source: "monitor outside its limits"})
	}
	s.s.outOfLimits = out
	return nil
}

func (s *Session) analyserFailed() bool {
	for i, m := range s.sc.Malfunctions {
		if m.Kind == AnalyserFailure && s.s.active[i] {
			return true
		}
	}
	return false
}

// purity is the product's purity, with the entrained phase mixed in.
func (s *Session) purity(sm *dynamic.Sample) float64 {
	p := s.sc.Product
	N := len(sm.Aqueous)
	out, other := sm.Raffinate, sm.Organic[0]
	if p.Extract {
		out, other = sm.Extract, sm.Aqueous[N-1]
	}
	conc := out
	if s.s.entrain > 0 {
		conc = make([]float64, len(out))
		for i := range out {
			conc[i] = out[i] + s.s.entrain*other[i]
		}
	}
	return control.Purity(conc, s.sc.Cascade.Cascade.Components, s.sc.MolarMass, p.Comp)
}

// inject starts malfunction i and raises its alarm.
func (s *Session) inject(i int) error {
	m := s.sc.Malfunctions[i]
	s.s.started[i], s.s.active[i] = true, true
	switch m.Kind {
	case PumpTrip:
		s.s.restore[i] = s.baseField(m.Inlet, dynamic.Flow, 0)
		if err := s.st.SetInlet(m.Inlet, dynamic.Flow, 0, s.s.restore[i]*m.Factor); err != nil {
			return err
		}
	case FeedUpset:
		s.s.restore[i] = s.baseField(m.Inlet, m.Field, m.Comp)
		if err := s.st.SetInlet(m.Inlet, m.Field, m.Comp, s.s.restore[i]*m.Factor); err != nil {
			return err
		}
	case Entrainment:
		s.s.entrain = m.Factor
	case AnalyserFailure:
	default:
		return fmt.Errorf("ots: malfunctions[%d].kind: %q is unknown", i, m.Kind)
	}
	s.s.alarms = append(s.s.alarms, Alarm{TH: s.st.Time(), Source: fmt.Sprintf("malfunction %d: %s", i, m.Kind)})
	return nil
}

// baseField returns the base value of an inlet field (engine units).
func (s *Session) baseField(inlet int, f dynamic.Field, comp int) float64 {
	mv := control.MV{Inlet: inlet, Field: f, Comp: comp, Scale: 1}
	return mv.Get(s.st.Snapshot().Inlets)
}

// Set is a trainee's action on an inlet field (engine units: L/h, mol/L).
func (s *Session) Set(inlet int, f dynamic.Field, comp int, v float64) error {
	return s.st.SetInlet(inlet, f, comp, v)
}

// Repair ends malfunction i: a tripped pump restarts at its flow before
// the trip, an upset feed returns to its value before the upset, the
// analyser reads again, the entrainment stops.
func (s *Session) Repair(i int) error {
	if i < 0 || i >= len(s.sc.Malfunctions) {
		return fmt.Errorf("ots: repair: malfunction %d is out of range", i)
	}
	if !s.s.active[i] {
		return fmt.Errorf("ots: repair: malfunction %d is not active", i)
	}
	m := s.sc.Malfunctions[i]
	switch m.Kind {
	case PumpTrip:
		if err := s.st.SetInlet(m.Inlet, dynamic.Flow, 0, s.s.restore[i]); err != nil {
			return err
		}
	case FeedUpset:
		if err := s.st.SetInlet(m.Inlet, m.Field, m.Comp, s.s.restore[i]); err != nil {
			return err
		}
	case Entrainment:
		s.s.entrain = 0
	}
	s.s.active[i] = false
	return nil
}

// Acknowledge acknowledges alarm i now; it counts as handled when within
// RespondH of being raised.
func (s *Session) Acknowledge(i int) error {
	if i < 0 || i >= len(s.s.alarms) {
		return fmt.Errorf("ots: acknowledge: alarm %d is out of range", i)
	}
	a := &s.s.alarms[i]
	if a.Acked {
		return nil
	}
	a.Acked, a.AckH = true, s.st.Time()
	a.Handled = a.AckH-a.TH <= s.sc.RespondH+1e-9
	return nil
}

// Snapshot stores the whole session under name.
func (s *Session) Snapshot(name string) {
	s.snaps[name] = savedState{model: s.st.Snapshot(), s: s.s.clone()}
}

// Snapshots returns the names of the stored snapshots, sorted.
func (s *Session) Snapshots() []string {
	var n []string
	for k := range s.snaps {
		n = append(n, k)
	}
	slices.Sort(n)
	return n
}

// ModelSnapshot returns the model state of snapshot name (for starting
// another session from it), or nil.
func (s *Session) ModelSnapshot(name string) *dynamic.Snapshot {
	if v, ok := s.snaps[name]; ok {
		return v.model
	}
	return nil
}

// Backtrack returns the session to snapshot name.
func (s *Session) Backtrack(name string) error {
	v, ok := s.snaps[name]
	if !ok {
		return fmt.Errorf("ots: backtrack: no snapshot %q", name)
	}
	if err := s.st.Restore(v.model); err != nil {
		return err
	}
	s.s = v.s.clone()
	return nil
}

// View is what the trainee's console shows.
type View struct {
	TH          float64
	EndH        float64
	Frozen      bool
	Monitor     float64 // as displayed
	Purity      float64
	Inlets      []sx.Inlet
	Alarms      []Alarm
	Malfunction []bool // active
	Score       Score
}

// View returns the console's view now.
func (s *Session) View() View {
	sm := s.st.Sample()
	return View{TH: s.st.Time(), EndH: s.sc.Cascade.Duration, Frozen: s.frozen, Monitor: s.s.display, Purity: s.purity(&sm),
		Inlets: s.st.Inlets(), Alarms: slices.Clone(s.s.alarms), Malfunction: slices.Clone(s.s.active), Score: s.Score()}
}

// Score returns the score so far.
func (s *Session) Score() Score {
	el := float64(s.s.k) * s.sc.Sample
	sc := Score{ElapsedH: el, InSpecH: s.s.inSpecH, Alarms: len(s.s.alarms), ReagentMol: s.s.reagentMol, BaselineMol: s.baseRate * el,
		HandledFraction: 1, ReagentRatio: 1}
	if el > 0 {
		sc.InSpecFraction = s.s.inSpecH / el
	}
	for _, a := range s.s.alarms {
		if a.Handled {
			sc.Handled++
		}
	}
	if sc.Alarms > 0 {
		sc.HandledFraction = float64(sc.Handled) / float64(sc.Alarms)
	}
	if sc.ReagentMol > 0 {
		sc.ReagentRatio = min(1, sc.BaselineMol/sc.ReagentMol)
	}
	sc.Total = 100 * (0.6*sc.InSpecFraction + 0.3*sc.HandledFraction + 0.1*sc.ReagentRatio)
	return sc
}
