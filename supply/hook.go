package supply

import (
	"context"
	"errors"
	"math/rand/v2"
)

// Controller makes decisions inside a run: Decide is called once a day in
// phase 0, before the day's regimes, and sees the state at the end of the
// previous day. It is how the org package puts people with latencies into
// the simulation without the supply engine knowing about them.
type Controller interface {
	Decide(d Day)
}

// Day is the view a Controller gets of one simulated day: read the state,
// and act on it from today on.
type Day struct {
	w *workspace
	d int
}

// Index is today's day index (0 is the scenario's start).
func (d Day) Index() int { return d.d }

// OnHand is node i's output stock on hand at the end of yesterday.
func (d Day) OnHand(i int) float64 { return d.w.out[i] }

// DailyUse is node i's average daily demand: its declared external demand
// per day, or, for a node without external demand, its capacity (what it
// ships at full use). 0 when it has neither.
func (d Day) DailyUse(i int) float64 {
	m := d.w.m
	if m.demand[i] > 0 {
		return m.demand[i]
	}
	return m.capacity[i]
}

// FillRate is node i's fill rate over the trailing window of 7 days (1 with
// no request in it).
func (d Day) FillRate(i int) float64 {
	win := d.w.win[i*window*2:][:window*2]
	var r, f float64
	for j := range window {
		r += win[2*j]
		f += win[2*j+1]
	}
	return ratio(f, r)
}

// Lost is node i's external demand lost so far, units.
func (d Day) Lost(i int) float64 {
	m := d.w.m
	nm := len(m.monthLabel)
	l := 0.0
	for mo := range nm {
		l += d.w.mAcc[(i*nm+mo)*4+2]
	}
	return l
}

// StockedOut reports whether node i has had a stockout day so far.
func (d Day) StockedOut(i int) bool { return d.w.firstSO[i] >= 0 }

// ControlState is 0 before control c (in file order) is announced, 1 once
// it is announced and 2 once it is in force.
func (d Day) ControlState(c int) int {
	ctl := &d.w.m.controls[c]
	switch {
	case d.d >= ctl.effective:
		return 2
	case d.d >= ctl.announced:
		return 1
	}
	return 0
}

// ActivateArc puts standby arc a into service from day `from` on (today
// at the earliest). It returns false when a is not a standby arc.
func (d Day) ActivateArc(a, from int) bool {
	if a < 0 || a >= d.w.m.na || !d.w.m.isStandby(a) {
		return false
	}
	d.w.actDay[a] = min(d.w.actDay[a], max(from, d.d))
	return true
}

func (m *model) isStandby(a int) bool {
	for _, b := range m.standby {
		if b == a {
			return true
		}
	}
	return false
}

// Sim is a compiled scenario that runs many times without recompiling or
// reallocating: one Sim per goroutine.
type Sim struct {
	m *model
	w *workspace
}

// NewSim compiles s.
func NewSim(s *SimScenario) (*Sim, error) {
	m, err := compile(s)
	if err != nil {
		return nil, err
	}
	return &Sim{m: m, w: newWorkspace(m)}, nil
}

// Run simulates once, as Run does, with c deciding in phase 0 (nil: no
// decisions, bit for bit the same as Run).
func (s *Sim) Run(ctx context.Context, rng *rand.Rand, c Controller) (*Result, error) {
	if rng == nil {
		return nil, errors.New("supply: run: nil random source")
	}
	s.w.reset(rng)
	s.w.ctl = c
	defer func() { s.w.ctl = nil }()
	if err := s.w.run(ctx); err != nil {
		return nil, err
	}
	return s.w.result(), nil
}

// NodeIndex returns the index of node id (the order of network.nodes).
func (s *Sim) NodeIndex(id NodeID) (int, bool) {
	for i, x := range s.m.ids {
		if x == id {
			return i, true
		}
	}
	return 0, false
}

// Days is the horizon, days.
func (s *Sim) Days() int { return s.m.days }

// DateOf returns day d as YYYY-MM-DD.
func (s *Sim) DateOf(d int) Date { return Date(s.m.start.AddDate(0, 0, d).Format(dateLayout)) }

// LostOnly runs once and returns only the external demand lost over the run
// at every node, summed (no Result is built: for Monte Carlo loops).
func (s *Sim) LostOnly(ctx context.Context, rng *rand.Rand, c Controller) (float64, error) {
	if rng == nil {
		return 0, errors.New("supply: run: nil random source")
	}
	s.w.reset(rng)
	s.w.ctl = c
	defer func() { s.w.ctl = nil }()
	if err := s.w.run(ctx); err != nil {
		return 0, err
	}
	s.w.totals()
	l := 0.0
	for _, x := range s.w.lost {
		l += x
	}
	return l, nil
}
