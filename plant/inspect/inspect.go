package inspect

import (
	"fmt"
	"math"
	"slices"
)

// Rule kinds.
const (
	Limit    = "limit"    // value outside [lo, hi]
	Rate     = "rate"     // |Δvalue/Δt| above maxRate (per hour)
	Frozen   = "frozen"   // window samples in a row within tol of each other
	Disagree = "disagree" // |reading − estimate| > k·σ for window samples in a row
	Twin     = "twin"     // an alarm of the soft sensor (sensor_drift, out_of_sync)
)

// Rule is one inspection rule on one tag (a sensor or telemetry series).
type Rule struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"`
	Tag       string   `json:"tag"`
	Equipment string   `json:"equipment,omitempty"`
	Lo        *float64 `json:"lo,omitempty"`
	Hi        *float64 `json:"hi,omitempty"`
	MaxRate   float64  `json:"max_rate,omitempty"` // per hour
	Window    int      `json:"window,omitempty"`   // samples
	Tol       float64  `json:"tol,omitempty"`
	K         float64  `json:"k,omitempty"` // σ
}

// Check reports the first problem of a rule, naming the field.
func (r Rule) Check(field string) error {
	if r.ID == "" {
		return fmt.Errorf("%s.id: required", field)
	}
	if r.Tag == "" {
		return fmt.Errorf("%s.tag: required", field)
	}
	switch r.Kind {
	case Limit:
		if r.Lo == nil && r.Hi == nil {
			return fmt.Errorf("%s.lo: a limit rule needs lo, hi or both", field)
		}
		if r.Lo != nil && r.Hi != nil && *r.Lo > *r.Hi {
			return fmt.Errorf("%s.lo: %v is above hi %v", field, *r.Lo, *r.Hi)
		}
	case Rate:
		if !(r.MaxRate > 0) {
			return fmt.Errorf("%s.max_rate: must be positive", field)
		}
	case Frozen:
		if r.Window < 2 {
			return fmt.Errorf("%s.window: a frozen rule needs at least 2 samples", field)
		}
		if r.Tol < 0 || math.IsNaN(r.Tol) {
			return fmt.Errorf("%s.tol: must be non-negative", field)
		}
	case Disagree:
		if !(r.K > 0) || r.Window < 1 {
			return fmt.Errorf("%s.k: a disagree rule needs k > 0 and window ≥ 1", field)
		}
	case Twin:
	default:
		return fmt.Errorf("%s.kind: %q is not limit, rate, frozen, disagree or twin", field, r.Kind)
	}
	return nil
}

// Sample is one reading of a tag at time T (h). For a disagree rule,
// Estimate and EstimateSD are the soft sensor's prediction of the reading
// and its standard deviation (the innovation's √S); Alarm carries a soft
// sensor alarm kind for a twin rule.
type Sample struct {
	T          float64 `json:"t_h"`
	Tag        string  `json:"tag"`
	Value      float64 `json:"value"`
	Estimate   float64 `json:"estimate,omitempty"`
	EstimateSD float64 `json:"estimate_sd,omitempty"`
	Alarm      string  `json:"alarm,omitempty"`
}

// Finding is what a rule found: when (the detection time, h), on which
// tag and equipment, and why.
type Finding struct {
	T         float64 `json:"t_h"`
	Rule      string  `json:"rule"`
	Kind      string  `json:"kind"`
	Tag       string  `json:"tag"`
	Equipment string  `json:"equipment,omitempty"`
	Value     float64 `json:"value"`
	Detail    string  `json:"detail"`
}

// Inspector runs rules over samples in time order. A rule raises a
// finding when it becomes true and again only after it has been false.
type Inspector struct {
	rules  []Rule
	state  []ruleState
	byTag  map[string][]int
	finds  []Finding
	lastT  float64
	primed bool
}

type ruleState struct {
	active   bool
	prev     float64
	prevT    float64
	havePrev bool
	run      int     // samples in a row meeting the condition
	anchor   float64 // frozen: the value the run started at
}

// New checks the rules and makes an Inspector.
func New(rules []Rule) (*Inspector, error) {
	in := &Inspector{rules: slices.Clone(rules), state: make([]ruleState, len(rules)), byTag: map[string][]int{}}
	seen := map[string]bool{}
	for i, r := range rules {
		f := fmt.Sprintf("rules[%d]", i)
		if err := r.Check(f); err != nil {
			return nil, err
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("%s.id: %q is used twice", f, r.ID)
		}
		seen[r.ID] = true
		in.byTag[r.Tag] = append(in.byTag[r.Tag], i)
	}
	return in, nil
}

// Add runs the rules of the sample's tag and returns the new findings.
// Samples must come in time order.
func (in *Inspector) Add(s Sample) ([]Finding, error) {
	if math.IsNaN(s.T) || in.primed && s.T < in.lastT {
		return nil, fmt.Errorf("t_h: %v is before the previous sample's %v; samples must be in time order", s.T, in.lastT)
	}
	in.lastT, in.primed = s.T, true
	var out []Finding
	for _, i := range in.byTag[s.Tag] {
		r, st := in.rules[i], &in.state[i]
		hit, detail := r.eval(st, s)
		if hit && !st.active {
			out = append(out, Finding{T: s.T, Rule: r.ID, Kind: r.Kind, Tag: r.Tag, Equipment: r.Equipment, Value: s.Value, Detail: detail})
		}
		st.active = hit
	}
	in.finds = append(in.finds, out...)
	return out, nil
}

// Findings returns every finding so far.
func (in *Inspector) Findings() []Finding { return in.finds }

// Rules returns the inspector's rules.
func (in *Inspector) Rules() []Rule { return in.rules }

func (r Rule) eval(st *ruleState, s Sample) (bool, string) {
	defer func() { st.prev, st.prevT, st.havePrev = s.Value, s.T, true }()
	switch r.Kind {
	case Limit:
		if r.Lo != nil && s.Value < *r.Lo {
			return true, fmt.Sprintf("%g below the low limit %g", s.Value, *r.Lo)
		}
		if r.Hi != nil && s.Value > *r.Hi {
			return true, fmt.Sprintf("%g above the high limit %g", s.Value, *r.Hi)
		}
	case Rate:
		if st.havePrev && s.T > st.prevT {
			rate := (s.Value - st.prev) / (s.T - st.prevT)
			if math.Abs(rate) > r.MaxRate {
				return true, fmt.Sprintf("changing at %.4g per hour, more than %g", rate, r.MaxRate)
			}
		}
	case Frozen:
		if st.havePrev && math.Abs(s.Value-st.anchor) <= r.Tol {
			st.run++
		} else {
			st.run, st.anchor = 1, s.Value
		}
		if st.run >= r.Window {
			return true, fmt.Sprintf("%d samples in a row within %g of %g: stuck or frozen", st.run, r.Tol, st.anchor)
		}
	case Disagree:
		if s.EstimateSD > 0 && math.Abs(s.Value-s.Estimate) > r.K*s.EstimateSD {
			st.run++
		} else {
			st.run = 0
		}
		if st.run >= r.Window {
			return true, fmt.Sprintf("reading %g and estimate %g differ by more than %g σ (σ %g) for %d samples", s.Value, s.Estimate, r.K, s.EstimateSD, st.run)
		}
	case Twin:
		if s.Alarm != "" {
			return true, "soft sensor alarm " + s.Alarm
		}
	}
	return false, ""
}
