package org

import (
	"context"
	"math/rand/v2"
	"sort"

	"lodestone/supply"
)

// Decision is one rule that fired in a run: when its signal crossed, when
// its actor decided, who approved and when, and when the action took
// effect. Days are dates; an effective day past the horizon means the
// action never took effect within the run.
type Decision struct {
	Rule         string      `json:"rule"`
	Actor        string      `json:"actor"`
	Signal       string      `json:"signal"`
	Value        float64     `json:"value"` // the signal's value on the signal day
	SignalDay    supply.Date `json:"signal_day"`
	DecidedDay   supply.Date `json:"decided_day"`
	ApprovedBy   []string    `json:"approved_by,omitempty"`
	ApprovedDay  supply.Date `json:"approved_day"`
	EffectiveDay supply.Date `json:"effective_day"`
	// InServiceDay is when a lane whose qualification the decision started
	// opens (start_qualification), or when a build's capacity starts to come
	// online (start_build with a lead time).
	InServiceDay supply.Date `json:"in_service_day,omitempty"`
	// Refused says why the chain of approvers could not approve the cost
	// (the action then has no effect and EffectiveDay is empty).
	Refused string `json:"refused,omitempty"`
	Action  Action `json:"action"`
	// Moved is what the decision changed: the run without this rule minus
	// the run with it (only with Options.Moved).
	Moved *Moved `json:"moved,omitempty"`
}

// Moved is the KPIs a decision moved, as the difference between the run
// without it and the run with it: positive is demand saved.
type Moved struct {
	LostSaved    float64  `json:"lost_saved"`           // external demand lost, units, all nodes
	CostSaved    *float64 `json:"cost_saved,omitempty"` // total cost, scenario currency (when the scenario has money)
	FillRateGain float64  `json:"fill_rate_gain"`       // fill rate of the rule's node (0 for a control signal)
	Node         string   `json:"node,omitempty"`       // the rule's node
	NodeLost     float64  `json:"node_lost_saved"`      // lost demand saved at the rule's node
}

// Event is one step of the decision timeline.
type Event struct {
	Day  supply.Date `json:"day"`
	Kind string      `json:"kind"` // signal, decision, approval, effect, in_service, refused
	Rule string      `json:"rule"`
	By   string      `json:"by,omitempty"`
}

// Counterfactual is the same scenario with every latency zero: the cost of
// slow decisions is the run's lost demand minus this one's.
type Counterfactual struct {
	Decisions []Decision `json:"decisions"`
	Lost      float64    `json:"lost"`
	Cost      *float64   `json:"cost,omitempty"`
}

// RunResult is the output of `lodestone org run`: the `supply run` result
// plus the decisions, their timeline and the zero-latency counterfactual.
type RunResult struct {
	*supply.Result
	Decisions []Decision `json:"decisions"`
	Timeline  []Event    `json:"timeline"`
	// Lost is the external demand lost over the run at every node, units.
	Lost float64 `json:"lost"`
	// ZeroLatency and LatencyCost (Lost − ZeroLatency.Lost, units) are
	// set with Options.ZeroLatency; LatencyMoney is the same in money.
	ZeroLatency  *Counterfactual `json:"zero_latency,omitempty"`
	LatencyCost  *float64        `json:"latency_cost,omitempty"`
	LatencyMoney *float64        `json:"latency_cost_money,omitempty"`
}

// Options selects the extra runs of Run.
type Options struct {
	Seed        uint64 // run uses the stream (Seed, 0), as `supply run`
	ZeroLatency bool   // add the zero-latency counterfactual (one more run)
	Moved       bool   // add each decision's KPIs moved (one more run per decision)
}

func totalLost(r *supply.Result) float64 {
	l := 0.0
	for _, k := range r.Nodes {
		l += k.Lost
	}
	return l
}

func totalCost(r *supply.Result) *float64 {
	if r.Cost == nil {
		return nil
	}
	v := r.Cost.Total
	return &v
}

// Run simulates the scenario once with its organisation deciding in phase 0
// of each day.
func Run(ctx context.Context, s *Scenario, opts Options) (*RunResult, error) {
	p, err := compile(s)
	if err != nil {
		return nil, err
	}
	sim, err := supply.NewSim(s.Supply)
	if err != nil {
		return nil, err
	}
	once := func(c *controller) (*supply.Result, error) {
		c.reset()
		return sim.Run(ctx, rand.New(rand.NewPCG(opts.Seed, 0)), c)
	}
	c := &controller{p: p, off: -1}
	res, err := once(c)
	if err != nil {
		return nil, err
	}
	out := &RunResult{Result: res, Lost: totalLost(res)}
	out.Decisions = decisions(sim, p, c, false)
	out.Timeline = timeline(out.Decisions)
	if opts.Moved {
		for k := range out.Decisions {
			i := ruleIndex(p, out.Decisions[k].Rule)
			r0, err := once(&controller{p: p, off: i})
			if err != nil {
				return nil, err
			}
			out.Decisions[k].Moved = moved(&p.rules[i], s.Supply, res, r0)
		}
	}
	if opts.ZeroLatency {
		z := &controller{p: p, off: -1, zero: true}
		rz, err := once(z)
		if err != nil {
			return nil, err
		}
		cf := &Counterfactual{Decisions: decisions(sim, p, z, true), Lost: totalLost(rz), Cost: totalCost(rz)}
		out.ZeroLatency = cf
		lc := out.Lost - cf.Lost
		out.LatencyCost = &lc
		if c1, c0 := totalCost(res), cf.Cost; c1 != nil && c0 != nil {
			v := *c1 - *c0
			out.LatencyMoney = &v
		}
	}
	return out, nil
}

func ruleIndex(p *program, id string) int {
	for i, r := range p.rules {
		if r.id == id {
			return i
		}
	}
	return -1
}

func moved(r *crule, s *supply.SimScenario, with, without *supply.Result) *Moved {
	m := &Moved{LostSaved: totalLost(without) - totalLost(with)}
	if c1, c0 := totalCost(with), totalCost(without); c1 != nil && c0 != nil {
		v := *c0 - *c1
		m.CostSaved = &v
	}
	if r.node >= 0 {
		id := s.Network.Nodes[r.node].ID
		m.Node = string(id)
		m.NodeLost = without.Nodes[id].Lost - with.Nodes[id].Lost
		m.FillRateGain = with.Nodes[id].FillRate - without.Nodes[id].FillRate
	}
	return m
}

// decisions lists the rules c fired, in the order they fired.
func decisions(sim *supply.Sim, p *program, c *controller, zero bool) []Decision {
	out := []Decision{}
	for i, f := range c.fired {
		if f.signalDay < 0 {
			continue
		}
		r := &p.rules[i]
		dec, app := f.signalDay+r.latency, f.signalDay+r.latency+r.approvalLatency
		if zero {
			dec, app = f.signalDay, f.signalDay
		}
		d := Decision{Rule: r.id, Actor: r.actor, Signal: r.signal, Value: f.value, SignalDay: sim.DateOf(f.signalDay),
			DecidedDay: sim.DateOf(dec), ApprovedBy: r.approvers, ApprovedDay: sim.DateOf(app), EffectiveDay: sim.DateOf(app),
			Refused: r.refused, Action: r.action}
		if r.programme > 0 || r.action.Type == ActionStartQualification {
			d.InServiceDay = sim.DateOf(app + r.programme)
		}
		if r.refused != "" {
			d.ApprovedDay, d.EffectiveDay, d.InServiceDay, d.ApprovedBy = "", "", "", nil
		}
		out = append(out, d)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].SignalDay < out[b].SignalDay })
	return out
}

// timeline orders the decisions' steps by day: signal → decision →
// approval → effect.
func timeline(ds []Decision) []Event {
	ev := []Event{}
	for _, d := range ds {
		ev = append(ev, Event{Day: d.SignalDay, Kind: "signal", Rule: d.Rule}, Event{Day: d.DecidedDay, Kind: "decision", Rule: d.Rule, By: d.Actor})
		if d.Refused != "" {
			ev = append(ev, Event{Day: d.DecidedDay, Kind: "refused", Rule: d.Rule})
			continue
		}
		for _, a := range d.ApprovedBy {
			ev = append(ev, Event{Day: d.ApprovedDay, Kind: "approval", Rule: d.Rule, By: a})
		}
		ev = append(ev, Event{Day: d.EffectiveDay, Kind: "effect", Rule: d.Rule})
		if d.InServiceDay != "" {
			ev = append(ev, Event{Day: d.InServiceDay, Kind: "in_service", Rule: d.Rule})
		}
	}
	sort.SliceStable(ev, func(a, b int) bool { return ev[a].Day < ev[b].Day })
	return ev
}
