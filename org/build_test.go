package org_test

import (
	"context"
	"errors"
	"testing"

	"lodestone/org"
)

// TestStartBuildLatency is the hand-computed case of a build (testdata/
// build.json). As in TestSecondSourceLatency the OEM holds 200 units,
// serves 10 a day and gets nothing from S1, out from day 0; its days of
// cover fall below 10 at the end of day 10, so the signal day is 11. S2
// has no capacity until the build: with the decision effective on day
// e = 11 + λ (λ: the buyer's latency plus the approvers') and a build
// time of L days, S2's 20 units a day come online on day o = e + L; S2
// takes the OEM's order that day, ships on day o+1 and the goods arrive on
// day o+6. The OEM's stock lasts through day 19, so nothing is lost while
// o + 6 ≤ 20, i.e. λ + L ≤ 3 (the slack), and every day beyond loses one
// day of demand: lost = 10 × max(0, λ + L − 3). Latency and build time add
// up: a day of one costs exactly what a day of the other does. A capex
// above the cfo's authority limit goes on to the board, whose 4 days add
// to λ; with no one to escalate to the build is refused and the OEM loses
// every day from day 20 on (40 days × 10 = 400). A ramp of R days gives S2
// a capacity of 20·k/R on day o+k−1 (k ≤ R); it has no order before day
// o's order phase, so its first shipment is on day o+1, at 40/R, and
// arrives on day o+6 = 20 when λ + L = 3; each later day brings 20/R more.
// So with R = 4 the arrivals from day 20 on are 10, 15, 20:
// nothing lost; with R = 8 they are 5, 7.5, 10: 5 + 2.5 lost; with R = 10
// they are 4, 6, 8, 10: 6 + 4 + 2 = 12 lost.
func TestStartBuildLatency(t *testing.T) {
	ip := func(v int) *int { return &v }
	tests := []struct {
		name                    string
		latency, approval, lead int
		ramp                    *int
		capex                   float64
		escalate                bool // no escalation from the cfo when false and capex is above its limit
		lost                    float64
	}{
		{"at once", 0, 0, 0, nil, 5e5, true, 0},
		{"lead within slack", 0, 0, 3, nil, 5e5, true, 0},
		{"lead one over", 0, 0, 4, nil, 5e5, true, 10},
		{"lead", 0, 0, 8, nil, 5e5, true, 50},
		{"latency within slack", 2, 0, 1, nil, 5e5, true, 0},
		{"latency and lead", 2, 0, 3, nil, 5e5, true, 20},
		{"latency, approval and lead", 2, 1, 3, nil, 5e5, true, 30},
		{"approval only", 0, 5, 0, nil, 5e5, true, 20},
		{"capex escalated to the board", 0, 0, 0, nil, 2e6, true, 10}, // λ = 0 + 4
		{"capex escalated, with lead", 1, 1, 2, nil, 2e6, true, 50},   // λ + L = 1 + 1 + 4 + 2
		{"capex above every limit", 0, 0, 0, nil, 2e6, false, 400},    // refused
		{"ramp 4", 0, 0, 3, ip(4), 5e5, true, 0},
		{"ramp 8", 0, 0, 3, ip(8), 5e5, true, 7.5},
		{"ramp 10", 0, 0, 3, ip(10), 5e5, true, 12},
		{"ramp of one day is no ramp", 0, 0, 4, ip(1), 5e5, true, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := load(t, "build.json")
			r := &s.Org.Rules[0]
			r.LatencyDays, r.Approval.LatencyDays = tc.latency, tc.approval
			r.Action.LeadTimeDays, r.Action.RampDays, r.Action.Cost = ip(tc.lead), tc.ramp, tc.capex
			if !tc.escalate {
				s.Org.Actors[1].Escalate = nil
			}
			res, err := org.Run(context.Background(), s, org.Options{ZeroLatency: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.Lost != tc.lost || res.Nodes["OEM"].Lost != tc.lost {
				t.Errorf("lost %v, want %v", res.Lost, tc.lost)
			}
			if len(res.Decisions) != 1 {
				t.Fatalf("decisions %+v", res.Decisions)
			}
			d := res.Decisions[0]
			if d.SignalDay != day(11) || d.DecidedDay != day(11+tc.latency) {
				t.Errorf("decision %+v, want signal %s, decided %s", d, day(11), day(11+tc.latency))
			}
			if !tc.escalate && tc.capex > 1e6 {
				if d.Refused == "" || d.EffectiveDay != "" {
					t.Errorf("decision %+v, want refused", d)
				}
				return
			}
			lambda := tc.latency + tc.approval
			if tc.capex > 1e6 {
				lambda += 4
			}
			if d.EffectiveDay != day(11+lambda) {
				t.Errorf("effective %s, want %s", d.EffectiveDay, day(11+lambda))
			}
			if want := day(11 + lambda + tc.lead); tc.lead > 0 && d.InServiceDay != want {
				t.Errorf("in service %s, want %s", d.InServiceDay, want)
			}
			// Zero latency keeps the build time: only the lead is left.
			if want := 10 * float64(max(0, tc.lead-3)); tc.ramp == nil && res.ZeroLatency.Lost != want {
				t.Errorf("zero-latency lost %v, want %v", res.ZeroLatency.Lost, want)
			}
		})
	}
}

// TestStartBuildErrors: a build's bad fields are named.
func TestStartBuildErrors(t *testing.T) {
	ip := func(v int) *int { return &v }
	cases := []struct {
		name   string
		action org.Action
		field  string
	}{
		{"unknown node", org.Action{Type: org.ActionStartBuild, Node: "X", AddCapacityPerPeriod: fp(20)}, "org.rules[0].action.node"},
		{"no capacity", org.Action{Type: org.ActionStartBuild, Node: "S2"}, "org.rules[0].action.add_capacity_per_period"},
		{"zero capacity", org.Action{Type: org.ActionStartBuild, Node: "S2", AddCapacityPerPeriod: fp(0)}, "org.rules[0].action.add_capacity_per_period"},
		{"negative lead", org.Action{Type: org.ActionStartBuild, Node: "S2", AddCapacityPerPeriod: fp(20), LeadTimeDays: ip(-1)}, "org.rules[0].action.lead_time_days"},
		{"negative ramp", org.Action{Type: org.ActionStartBuild, Node: "S2", AddCapacityPerPeriod: fp(20), RampDays: ip(-2)}, "org.rules[0].action.ramp_days"},
		{"negative capex", org.Action{Type: org.ActionStartBuild, Node: "S2", AddCapacityPerPeriod: fp(20), Cost: -1}, "org.rules[0].action.cost"},
		{"build field on another action", org.Action{Type: org.ActionChangePolicy, Node: "OEM", CoverDays: fp(30), LeadTimeDays: ip(3)}, "org.rules[0].action.lead_time_days"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := load(t, "build.json")
			s.Org.Rules[0].Action = tc.action
			var fe *org.FieldError
			if err := s.Validate(); !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("got %v, want a field error at %s", err, tc.field)
			}
		})
	}
}
