package org_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"lodestone/org"
	"lodestone/supply"
)

func load(t testing.TB, name string) *org.Scenario {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := org.DecodeScenario(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSecondSourceLatency is the hand-computed case of issue 14. The OEM
// starts with 200 units, serves 10 a day and gets nothing (S1 is out from
// day 0): its stock at the end of day k is 190 − 10k. Days of cover fall
// below 10 at the end of day 10 (90 units), so the rule's signal day is day
// 11 (phase 0 reads yesterday's close). S2 activated on day e takes the
// OEM's order on day e, ships on day e+1 and its goods arrive 5 days later,
// on day e+6; the OEM's stock lasts through day 19 (190 − 190 = 0 at the
// end of day 19), so demand is first lost on day 20. With e = 11 + λ (λ
// the total latency), nothing is lost while 17 + λ ≤ 20, i.e. λ ≤ 3 (the
// slack), and every day beyond loses one day of demand: lost = 10 × (λ − 3).
func TestSecondSourceLatency(t *testing.T) {
	tests := []struct {
		latency, approval int
		lost              float64
	}{
		{0, 0, 0}, {1, 0, 0}, {3, 0, 0}, {4, 0, 10}, {5, 0, 20}, {8, 0, 50}, {12, 0, 90},
		{2, 1, 0}, {2, 2, 10}, {4, 3, 40}, {0, 7, 40},
	}
	for _, tc := range tests {
		s := load(t, "second_source.json")
		s.Org.Rules[0].LatencyDays = tc.latency
		if tc.approval > 0 {
			s.Org.Rules[0].Approval = &org.Approval{Actor: "cfo", LatencyDays: tc.approval}
		}
		r, err := org.Run(context.Background(), s, org.Options{ZeroLatency: true})
		if err != nil {
			t.Fatal(err)
		}
		if r.Lost != tc.lost || r.Nodes["OEM"].Lost != tc.lost {
			t.Errorf("latency %d + approval %d: lost %v, want %v", tc.latency, tc.approval, r.Lost, tc.lost)
		}
		if r.ZeroLatency.Lost != 0 || *r.LatencyCost != tc.lost {
			t.Errorf("latency %d + approval %d: zero-latency lost %v, latency cost %v, want 0 and %v", tc.latency, tc.approval, r.ZeroLatency.Lost, *r.LatencyCost, tc.lost)
		}
		if len(r.Decisions) != 1 {
			t.Fatalf("decisions %+v", r.Decisions)
		}
		d := r.Decisions[0]
		eff := day(11 + tc.latency + tc.approval)
		if d.SignalDay != "2026-01-12" || d.DecidedDay != day(11+tc.latency) || d.EffectiveDay != eff {
			t.Errorf("latency %d + approval %d: decision %+v, want signal 2026-01-12, decided %s, effective %s", tc.latency, tc.approval, d, day(11+tc.latency), eff)
		}
	}
}

// day returns day d of the test scenario (it starts on 2026-01-01).
func day(d int) supply.Date {
	return supply.Date(time.Date(2026, 1, 1+d, 0, 0, 0, 0, time.UTC).Format("2006-01-02"))
}

// TestStartQualification: the lane opens when the programme ends, so its
// days add to the latency of the hand-computed case (slack 3 days).
func TestStartQualification(t *testing.T) {
	ip := func(v int) *int { return &v }
	tests := []struct {
		screening, samples, audit *int
		lost                      float64
	}{
		{ip(2), ip(0), ip(1), 0}, {ip(4), ip(0), ip(1), 20}, {ip(0), ip(10), ip(0), 70},
		{nil, nil, nil, 400}, // the default programme (144 days) outlasts the 60-day horizon
	}
	for _, tc := range tests {
		s := load(t, "second_source.json")
		s.Org.Rules[0].Action = org.Action{Type: org.ActionStartQualification, Arc: "S2->OEM", ScreeningDays: tc.screening, SamplesDays: tc.samples, AuditDays: tc.audit}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		r, err := org.Run(context.Background(), s, org.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Lost != tc.lost || r.Decisions[0].InServiceDay == "" {
			t.Errorf("programme %v/%v/%v: lost %v, want %v; decision %+v", tc.screening, tc.samples, tc.audit, r.Lost, tc.lost, r.Decisions[0])
		}
	}
}

// TestReleaseStockpile: the stockpile behind a standby lane is released
// by a policy rule. The slack, 7 days, was measured rather than derived
// by hand (a stockpile released on shortfall answers its customer's
// shortfall directly, a shorter path than the second source's order, ship
// and transit, which leaves 3); beyond it each day of latency loses
// exactly one day of demand.
func TestReleaseStockpile(t *testing.T) {
	for _, lat := range []int{0, 3, 7, 8, 10, 15} {
		s := load(t, "stockpile_release.json")
		s.Org.Rules[0].LatencyDays = lat
		r, err := org.Run(context.Background(), s, org.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if want := 10 * float64(max(0, lat-7)); r.Lost != want {
			t.Errorf("latency %d: lost %v, want %v", lat, r.Lost, want)
		}
	}
	s := load(t, "stockpile_release.json")
	s.Org.Rules[0].Action.Node = "OEM"
	var fe *org.FieldError
	if err := s.Validate(); !errors.As(err, &fe) || fe.Field != "org.rules[0].action.node" {
		t.Errorf("release of a node that is not a stockpile: %v", err)
	}
}

func TestAuthorityLimit(t *testing.T) {
	s := load(t, "second_source.json")
	s.Org.Rules[0].Approval = &org.Approval{Actor: "cfo", LatencyDays: 1}
	s.Org.Rules[0].Action.Cost = 2e6 // above the cfo's limit, no one to escalate to
	r, err := org.Run(context.Background(), s, org.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Decisions[0]; d.Refused == "" || d.EffectiveDay != "" || r.Lost != 400 {
		t.Errorf("refused decision %+v lost %v, want refused and 400 lost", d, r.Lost)
	}
	lim := 1e7
	s.Org.Actors = append(s.Org.Actors, org.Actor{ID: "board", Role: "finance", AuthorityLimit: &lim})
	s.Org.Actors[1].Escalate = &org.Approval{Actor: "board", LatencyDays: 2}
	r, err = org.Run(context.Background(), s, org.Options{Moved: true})
	if err != nil {
		t.Fatal(err)
	}
	// 1 day of cfo + 2 of the board: λ = 3, the slack: nothing lost.
	if d := r.Decisions[0]; d.Refused != "" || d.EffectiveDay != day(14) || r.Lost != 0 || len(d.ApprovedBy) != 2 {
		t.Errorf("escalated decision %+v lost %v", d, r.Lost)
	}
	if m := r.Decisions[0].Moved; m == nil || m.LostSaved != 400 || m.NodeLost != 400 {
		t.Errorf("moved %+v, want 400 saved", m)
	}
}

func TestBadInput(t *testing.T) {
	b, err := os.ReadFile("testdata/second_source.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ old, new, field string }{
		{`"node": "OEM", "below"`, `"node": "X", "below"`, "org.rules[0].when.node"},
		{`"arc": "S2->OEM"`, `"arc": "S9->OEM"`, "org.rules[0].action.arc"},
		{`"arc": "S2->OEM"`, `"arc": "S1->OEM"`, "org.rules[0].action.arc"},
		{`"actor": "buyer"`, `"actor": "nobody"`, "org.rules[0].actor"},
		{`"latency_days": 0`, `"latency_days": -1`, "org.rules[0].latency_days"},
		{`"latency_days": 0,`, `"latency_days": 0, "approval": {"actor": "cfo", "latency_days": -2},`, "org.rules[0].approval.latency_days"},
		{`"latency_days": 0,`, `"latency_days": 0, "approval": {"actor": "ghost", "latency_days": 2},`, "org.rules[0].approval.actor"},
		{`"role": "procurement", "org": "OEM"}`, `"role": "procurement", "org": "OEM", "escalate": {"actor": "cfo", "latency_days": 1}}`, ""},
		{`"authority_limit": 1000000}`, `"authority_limit": 1000000, "escalate": {"actor": "cfo", "latency_days": 1}}`, "org.actors[1].escalate.actor"},
		{`"role": "procurement"`, `"role": "sales"`, "org.actors[0].role"},
		{`"type": "activate_arc"`, `"type": "pray"`, "org.rules[0].action.type"},
		{`"below": 10`, `"below": 10, "above": 3`, "org.rules[0].when"},
		{`"signal": "days_of_cover"`, `"signal": "mood"`, "org.rules[0].when.signal"},
		{`"org": "OEM"}`, `"org": "OEM", "colour": 1}`, "org"},
	}
	for _, tc := range tests {
		doc := strings.Replace(string(b), tc.old, tc.new, 1)
		if doc == string(b) {
			t.Fatalf("%q not in the test file", tc.old)
		}
		_, err := org.DecodeScenario([]byte(doc))
		if tc.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.new, err)
			}
			continue
		}
		var fe *org.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: error %v, want one naming %s", tc.new, err, tc.field)
		}
	}
	// A cycle of approvals: cfo escalates to board, board to cfo.
	doc := strings.Replace(string(b), `{"id": "cfo", "role": "finance", "org": "OEM", "authority_limit": 1000000}`,
		`{"id": "cfo", "role": "finance", "escalate": {"actor": "board", "latency_days": 1}}, {"id": "board", "role": "finance", "escalate": {"actor": "cfo", "latency_days": 1}}`, 1)
	if _, err := org.DecodeScenario([]byte(doc)); err == nil || !strings.Contains(err.Error(), "cycle") || !strings.Contains(err.Error(), "escalate.actor") {
		t.Errorf("cycle: %v", err)
	}
}

func FuzzDecodeScenario(f *testing.F) {
	b, err := os.ReadFile("testdata/second_source.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	for _, name := range []string{"signals_actions.json", "build.json"} {
		b, err = os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"org": {}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := org.DecodeScenario(data)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("decoded scenario does not validate: %v", err)
		}
	})
}
