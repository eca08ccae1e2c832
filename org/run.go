package org

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"lodestone/supply"
)

// crule is a compiled rule.
type crule struct {
	id, actor       string
	signal          string
	node, control   int
	below           bool
	thr             float64
	latency         int
	approvers       []string // in order; empty: the actor's own authority
	approvalLatency int      // sum of the approvers' latencies
	refused         string   // non-empty: no one in the chain may approve the cost
	arcs            []int
	programme       int // start_qualification: days from the effective day until the lane opens; start_build: the lead time
	action          Action
	series          []float64 // price: the price in force on each day of the run (NaN: none yet)
	alarms          []int     // plant_alarm: the days of the node's alarms, sorted
	actNode         int       // change_policy, substitute_grade: the node (−1: none)
	actControl      int       // apply_for_licences: the control
}

// program is a compiled organisation.
type program struct {
	rules []crule
}

// arcIndex resolves an arc by id or "FROM->TO" as supply does (the first
// arc with a name wins).
func arcIndex(s *supply.SimScenario, name string) (int, bool) {
	for i, a := range s.Network.Arcs {
		if a.ID == name || string(a.From)+"->"+string(a.To) == name {
			return i, true
		}
	}
	return 0, false
}

// compile checks the organisation against its supply scenario.
func compile(s *Scenario) (*program, error) {
	actors := map[string]int{}
	for i, a := range s.Org.Actors {
		p := fmt.Sprintf("org.actors[%d]", i)
		if a.ID == "" {
			return nil, fieldErr(p+".id", "required")
		}
		if _, dup := actors[a.ID]; dup {
			return nil, fieldErr(p+".id", "duplicate actor %q", a.ID)
		}
		if !slices.Contains(Roles(), a.Role) {
			return nil, fieldErr(p+".role", "unknown role %q (want one of %v)", a.Role, Roles())
		}
		if a.AuthorityLimit != nil && (*a.AuthorityLimit < 0 || !finite(*a.AuthorityLimit)) {
			return nil, fieldErr(p+".authority_limit", "must be a finite number >= 0")
		}
		actors[a.ID] = i
	}
	for i, a := range s.Org.Actors {
		p := fmt.Sprintf("org.actors[%d].escalate", i)
		if a.Escalate == nil {
			continue
		}
		if _, ok := actors[a.Escalate.Actor]; !ok {
			return nil, fieldErr(p+".actor", "unknown actor %q", a.Escalate.Actor)
		}
		if a.Escalate.LatencyDays < 0 {
			return nil, fieldErr(p+".latency_days", "must be >= 0")
		}
		// A chain of escalations must end: follow it from i.
		seen := map[int]bool{i: true}
		for j := actors[a.Escalate.Actor]; ; {
			if seen[j] {
				return nil, fieldErr(p+".actor", "cycle of approvals through actor %q", s.Org.Actors[j].ID)
			}
			seen[j] = true
			e := s.Org.Actors[j].Escalate
			if e == nil {
				break
			}
			k, ok := actors[e.Actor]
			if !ok {
				break // reported at that actor
			}
			j = k
		}
	}
	pr := &program{}
	ids := map[string]bool{}
	for i, r := range s.Org.Rules {
		cr, err := compileRule(s, actors, fmt.Sprintf("org.rules[%d]", i), r)
		if err != nil {
			return nil, err
		}
		if ids[r.ID] {
			return nil, fieldErr(fmt.Sprintf("org.rules[%d].id", i), "duplicate rule %q", r.ID)
		}
		ids[r.ID] = true
		pr.rules = append(pr.rules, cr)
	}
	return pr, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func compileRule(s *Scenario, actors map[string]int, p string, r Rule) (crule, error) {
	cr := crule{id: r.ID, actor: r.Actor, signal: r.When.Signal, node: -1, control: -1, latency: r.LatencyDays, action: r.Action, actNode: -1, actControl: -1}
	if r.ID == "" {
		return cr, fieldErr(p+".id", "required")
	}
	if _, ok := actors[r.Actor]; !ok {
		return cr, fieldErr(p+".actor", "unknown actor %q", r.Actor)
	}
	if r.LatencyDays < 0 {
		return cr, fieldErr(p+".latency_days", "must be >= 0")
	}
	if err := compileWhen(s, p+".when", r.When, &cr); err != nil {
		return cr, err
	}
	switch r.Action.Type {
	case ActionActivateArc, ActionStartQualification:
		a, ok := arcIndex(s.Supply, r.Action.Arc)
		if !ok {
			return cr, fieldErr(p+".action.arc", "unknown arc %q", r.Action.Arc)
		}
		if !s.Supply.Network.Arcs[a].Standby {
			return cr, fieldErr(p+".action.arc", "arc %q is not on standby", r.Action.Arc)
		}
		cr.arcs = []int{a}
	case ActionReleaseStockpile:
		j := -1
		for i, n := range s.Supply.Network.Nodes {
			if string(n.ID) == r.Action.Node {
				j = i
			}
		}
		if j < 0 {
			return cr, fieldErr(p+".action.node", "unknown node %q", r.Action.Node)
		}
		if s.Supply.Network.Nodes[j].Stage != supply.StageStockpile {
			return cr, fieldErr(p+".action.node", "node %q is not a stockpile (stage %q)", r.Action.Node, supply.StageStockpile)
		}
		for a, arc := range s.Supply.Network.Arcs {
			if string(arc.From) == r.Action.Node && arc.Standby {
				cr.arcs = append(cr.arcs, a)
			}
		}
		if len(cr.arcs) == 0 {
			return cr, fieldErr(p+".action.node", "stockpile %q has no standby arc to release through", r.Action.Node)
		}
	case ActionChangePolicy, ActionSubstituteGrade, ActionApplyForLicences, ActionStartBuild:
		if err := compileAction(s, p+".action", r.Action, &cr); err != nil {
			return cr, err
		}
	case "":
		return cr, fieldErr(p+".action.type", "required")
	default:
		return cr, fieldErr(p+".action.type", "unknown action %q (want one of %v)", r.Action.Type, Actions())
	}
	if err := checkActionFields(p+".action", r.Action); err != nil {
		return cr, err
	}
	if r.Action.Type == ActionStartQualification {
		q := supply.DefaultQualification("", "", 0)
		for _, f := range []struct {
			n   string
			v   *int
			def int
		}{{"screening_days", r.Action.ScreeningDays, q.ScreeningDays}, {"samples_days", r.Action.SamplesDays, q.SamplesDays}, {"audit_days", r.Action.AuditDays, q.AuditDays}} {
			d := f.def
			if f.v != nil {
				d = *f.v
			}
			if d < 0 {
				return cr, fieldErr(p+".action."+f.n, "must be >= 0")
			}
			cr.programme += d
		}
	} else if r.Action.ScreeningDays != nil || r.Action.SamplesDays != nil || r.Action.AuditDays != nil {
		return cr, fieldErr(p+".action", "screening_days, samples_days and audit_days go with %s", ActionStartQualification)
	}
	if r.Action.Cost < 0 || !finite(r.Action.Cost) {
		return cr, fieldErr(p+".action.cost", "must be a finite number >= 0")
	}
	// The approval chain: the approver (or the actor itself), then whoever
	// each escalates to while the cost is above their authority limit.
	cur, lat := r.Actor, 0
	if ap := r.Approval; ap != nil {
		if _, ok := actors[ap.Actor]; !ok {
			return cr, fieldErr(p+".approval.actor", "unknown actor %q", ap.Actor)
		}
		if ap.LatencyDays < 0 {
			return cr, fieldErr(p+".approval.latency_days", "must be >= 0")
		}
		if ap.Actor == r.Actor {
			return cr, fieldErr(p+".approval.actor", "an actor cannot approve its own rule")
		}
		cur, lat = ap.Actor, ap.LatencyDays
		cr.approvers = append(cr.approvers, cur)
	}
	for {
		a := s.Org.Actors[actors[cur]]
		if a.AuthorityLimit == nil || r.Action.Cost <= *a.AuthorityLimit {
			break
		}
		if a.Escalate == nil {
			cr.refused = fmt.Sprintf("cost %g is above the authority limit %g of %q, who escalates to no one", r.Action.Cost, *a.AuthorityLimit, cur)
			break
		}
		cur = a.Escalate.Actor
		lat += a.Escalate.LatencyDays
		cr.approvers = append(cr.approvers, cur)
	}
	cr.approvalLatency = lat
	return cr, nil
}

func compileWhen(s *Scenario, p string, w When, cr *crule) error {
	if (w.Below == nil) == (w.Above == nil) {
		return fieldErr(p, "want exactly one of below and above")
	}
	thr := w.Above
	if w.Below != nil {
		thr, cr.below = w.Below, true
	}
	if !finite(*thr) {
		return fieldErr(p, "threshold must be finite")
	}
	cr.thr = *thr
	switch w.Signal {
	case SignalDaysOfCover, SignalInventory, SignalFillRate, SignalStockout, SignalLost:
		for i, n := range s.Supply.Network.Nodes {
			if string(n.ID) == w.Node {
				cr.node = i
			}
		}
		if cr.node < 0 {
			return fieldErr(p+".node", "unknown node %q", w.Node)
		}
	case SignalControl, SignalLicenceRefused:
		cr.control = controlIndex(s.Supply, w.Control)
		if cr.control < 0 {
			return fieldErr(p+".control", "unknown control %q", w.Control)
		}
		if w.Signal == SignalLicenceRefused && s.Supply.Controls[cr.control].Mode != supply.ControlLicence {
			return fieldErr(p+".control", "control %q is not a licence control (mode %q)", w.Control, s.Supply.Controls[cr.control].Mode)
		}
	case SignalPrice:
		series, err := priceSeries(s.Supply, w.Material, w.Country)
		if err != nil {
			return fieldErr(p+".material", "%v", err)
		}
		cr.series = series
	case SignalPlantAlarm:
		cr.node = nodeIndex(s.Supply, w.Node)
		if cr.node < 0 {
			return fieldErr(p+".node", "unknown node %q", w.Node)
		}
		days, err := alarmDays(s, w.Node)
		if err != nil {
			return err
		}
		cr.alarms = days
	case "":
		return fieldErr(p+".signal", "required")
	default:
		return fieldErr(p+".signal", "unknown signal %q", w.Signal)
	}
	return nil
}

// fired is one rule's decision in a run.
type fired struct {
	signalDay int
	value     float64
}

// controller carries the rules out inside a supply run (phase 0 of each
// day: see supply.Controller).
type controller struct {
	p       *program
	zero    bool // zero latency: decide and approve the day the signal crosses
	off     int  // a rule to leave out (−1: none)
	fired   []fired
	pending []int  // rules not yet fired
	due     []todo // actions waiting for their effective day, in firing order
}

// todo is an action that takes effect on day.
type todo struct{ day, rule int }

func (c *controller) reset() {
	c.fired = c.fired[:0]
	c.pending = c.pending[:0]
	c.due = c.due[:0]
	for i := range c.p.rules {
		c.fired = append(c.fired, fired{signalDay: -1})
		if i != c.off {
			c.pending = append(c.pending, i)
		}
	}
}

func signalValue(r *crule, d supply.Day) float64 {
	switch r.signal {
	case SignalDaysOfCover:
		u := d.DailyUse(r.node)
		if u <= 0 {
			return math.Inf(1)
		}
		return d.OnHand(r.node) / u
	case SignalInventory:
		return d.OnHand(r.node)
	case SignalFillRate:
		return d.FillRate(r.node)
	case SignalStockout:
		if d.StockedOut(r.node) {
			return 1
		}
		return 0
	case SignalLost:
		return d.Lost(r.node)
	case SignalPrice:
		return r.series[max(d.Index()-1, 0)]
	case SignalLicenceRefused:
		return float64(d.LicencesRefused(r.control))
	case SignalPlantAlarm:
		// Alarms raised up to yesterday.
		return float64(sort.SearchInts(r.alarms, d.Index()))
	case SignalControl:
		return float64(d.ControlState(r.control))
	}
	return math.NaN()
}

// Decide is phase 0: each rule not yet fired whose condition holds on
// yesterday's closing state fires today; its action takes effect after the
// actor's and approvers' latencies.
func (c *controller) Decide(d supply.Day) {
	k := 0
	for _, i := range c.pending {
		r := &c.p.rules[i]
		v := signalValue(r, d)
		if r.below && v < r.thr || !r.below && v > r.thr {
			c.fired[i] = fired{signalDay: d.Index(), value: v}
			if r.refused == "" {
				for _, a := range r.arcs {
					d.ActivateArc(a, d.Index()+c.latency(r)+r.programme)
				}
				if r.actNode >= 0 || r.actControl >= 0 {
					c.due = append(c.due, todo{day: d.Index() + c.latency(r), rule: i})
				}
			}
			continue
		}
		c.pending[k] = i
		k++
	}
	c.pending = c.pending[:k]
	// The actions due today, in the order their rules fired.
	k = 0
	for _, t := range c.due {
		if t.day > d.Index() {
			c.due[k] = t
			k++
			continue
		}
		act(&c.p.rules[t.rule], d)
	}
	c.due = c.due[:k]
}

func (c *controller) latency(r *crule) int {
	if c.zero {
		return 0
	}
	return r.latency + r.approvalLatency
}
