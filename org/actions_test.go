package org_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"lodestone/org"
	"lodestone/supply"
)

func run(t *testing.T, s *org.Scenario, opts org.Options) *org.RunResult {
	t.Helper()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := org.Run(context.Background(), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func fp(v float64) *float64 { return &v }

// TestPriceSignal: the hand-computed case of TestSecondSourceLatency with
// the rule on a price. The price in force steps from 50 to 100 on
// 2026-01-08 (day 7); phase 0 of day 8 reads it, so the signal day is day
// 8, three days before the days-of-cover rule's day 11: the slack grows
// from 3 days to 6, and lost = 10 × max(0, λ − 6).
func TestPriceSignal(t *testing.T) {
	for _, lat := range []int{0, 6, 7, 9} {
		s := load(t, "second_source.json")
		s.Supply.Prices = []supply.Price{
			{Material: "NdFeB", Price: 100, Currency: "USD", Unit: "kg", Date: "2026-01-08", Source: "test input"},
			{Material: "NdFeB", Price: 50, Currency: "USD", Unit: "kg", Date: "2026-01", Source: "test input"},
			{Material: "NdFeB", Country: "CN", Price: 500, Currency: "USD", Unit: "kg", Date: "2026", Source: "test input"},
		}
		s.Org.Rules[0].When = org.When{Signal: org.SignalPrice, Material: "NdFeB", Above: fp(80)}
		s.Org.Rules[0].LatencyDays = lat
		r := run(t, s, org.Options{})
		if d := r.Decisions[0]; d.SignalDay != day(8) || d.Value != 100 {
			t.Errorf("latency %d: decision %+v, want signal day %s at price 100", lat, d, day(8))
		}
		if want := 10 * float64(max(0, lat-6)); r.Lost != want {
			t.Errorf("latency %d: lost %v, want %v", lat, r.Lost, want)
		}
	}
}

// TestPlantAlarmSignal: an alarm of the plant twin at S2 on 2026-01-05
// (day 4) is read on day 5; the second source is then activated on day
// 5 + λ, and the slack of the hand-computed case is 9 days. The same
// alarm given as a plant estimator's output (t_h = 49.5 h after
// 2026-01-03 00:00 is on 2026-01-05) gives the same run.
func TestPlantAlarmSignal(t *testing.T) {
	var est org.PlantEstimate
	if err := json.Unmarshal([]byte(`{"node":"S2","start":"2026-01-03","alarms":[{"t_h":49.5,"kind":"sensor_drift","sensor":"xrf-feed-Nd"}]}`), &est); err != nil {
		t.Fatal(err)
	}
	for _, lat := range []int{0, 9, 10, 12} {
		var lost []float64
		for _, input := range []string{"alarms", "plant_estimates"} {
			s := load(t, "second_source.json")
			if input == "alarms" {
				s.Org.Alarms = []org.Alarm{{Node: "S2", Date: "2026-01-05", Kind: "sensor_drift"}, {Node: "S1", Date: "2026-01-02"}}
			} else {
				s.Org.PlantEstimates = []org.PlantEstimate{est}
			}
			s.Org.Rules[0].When = org.When{Signal: org.SignalPlantAlarm, Node: "S2", Above: fp(0)}
			s.Org.Rules[0].LatencyDays = lat
			r := run(t, s, org.Options{})
			if d := r.Decisions[0]; d.SignalDay != day(5) || d.Value != 1 {
				t.Errorf("%s, latency %d: decision %+v, want signal day %s with 1 alarm", input, lat, d, day(5))
			}
			lost = append(lost, r.Lost)
		}
		if want := 10 * float64(max(0, lat-9)); lost[0] != want || lost[1] != want {
			t.Errorf("latency %d: lost %v (alarms, plant estimate), want %v", lat, lost, want)
		}
	}
}

// licenceScenario: S1 (CN) ships 10 a day to the OEM (US) over 5 days; a
// licence control on CN exports is announced on day 0 and in force from
// day 10 with a 20-day review. S2 is a standby second source.
func licenceScenario(t *testing.T, approve float64) *org.Scenario {
	t.Helper()
	doc := `{"start":"2026-01-01","days":90,
	 "network":{"nodes":[
	   {"id":"S1","stage":"magnet","country":"CN","capacity_per_period":20,"inventory":0},
	   {"id":"S2","stage":"magnet","country":"JP","capacity_per_period":20,"inventory":0},
	   {"id":"OEM","stage":"oem","country":"US","capacity_per_period":20,"inventory":50,"demand_per_period":10}],
	  "arcs":[{"from":"S1","to":"OEM","ratio":1,"lead_time_days":5,"material":"NdFeB"},
	          {"from":"S2","to":"OEM","ratio":1,"lead_time_days":5,"standby":true,"material":"NdFeB"}]},
	 "controls":[{"name":"lic","country":"CN","mode":"licence","review_days":20,"approval_probability":` + jsonNum(approve) + `,
	   "announced":"2026-01-01","effective":"2026-01-11","source":"test input"}],
	 "org":{"actors":[{"id":"trade","role":"policy"},{"id":"buyer","role":"procurement"}],"rules":[]}}`
	s, err := org.DecodeScenario([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jsonNum(v float64) string { b, _ := json.Marshal(v); return string(b) }

// TestApplyForLicences: applying for the licence when the control is
// announced (signal control above 0 on day 0) instead of when the lane is
// first blocked (day 10, when the engine applies by itself) shortens the
// lane's closure: applying on day a ≤ 10 opens the lane on day a + 20, a
// closure of 10 + a days. Every day of latency in applying closes the lane
// one more day and loses exactly one day of demand (10 units) up to day
// 10; from then on the rule changes nothing. The OEM's buffer, 3 days of
// the closure (70 units lost with a = 0), was measured rather than derived
// by hand, as in TestReleaseStockpile.
func TestApplyForLicences(t *testing.T) {
	base := run(t, licenceScenario(t, 1), org.Options{})
	for _, lat := range []int{0, 1, 5, 9, 10, 12, 14} {
		s := licenceScenario(t, 1)
		s.Org.Rules = []org.Rule{{ID: "apply", Actor: "trade", When: org.When{Signal: org.SignalControl, Control: "lic", Above: fp(0)},
			LatencyDays: lat, Action: org.Action{Type: org.ActionApplyForLicences, Control: "lic"}}}
		r := run(t, s, org.Options{ZeroLatency: true})
		if d := r.Decisions[0]; d.SignalDay != day(0) || d.EffectiveDay != day(lat) {
			t.Errorf("latency %d: decision %+v", lat, d)
		}
		if want := 70 + 10*float64(min(lat, 10)); r.Lost != want || r.ZeroLatency.Lost != 70 || *r.LatencyCost != want-70 {
			t.Errorf("latency %d: lost %v (zero latency %v), want %v (70)", lat, r.Lost, r.ZeroLatency.Lost, want)
		}
	}
	if base.Lost != 170 {
		t.Errorf("without the rule: lost %v, want 170 (the engine applies on day 10)", base.Lost)
	}
}

// TestLicenceRefusedSignal: with approval probability 0 the lane is
// blocked from day 10, when the OEM applies; the application is refused
// on day 30, and the rule on licence_refused reads it on day 31.
func TestLicenceRefusedSignal(t *testing.T) {
	s := licenceScenario(t, 0)
	s.Org.Rules = []org.Rule{{ID: "second-source", Actor: "buyer", When: org.When{Signal: org.SignalLicenceRefused, Control: "lic", Above: fp(0)},
		Action: org.Action{Type: org.ActionActivateArc, Arc: "S2->OEM"}}}
	r := run(t, s, org.Options{})
	if len(r.Decisions) != 1 || r.Decisions[0].SignalDay != day(31) || r.Decisions[0].Value != 1 {
		t.Fatalf("decisions %+v, want one on %s", r.Decisions, day(31))
	}
}

// TestPolicyActionsAtDayZero: change_policy and substitute_grade carried
// out on day 0 (a rule that holds from the start, no latency) give the
// same run, bit for bit, as the scenario with that policy, allocation or
// substitution from the start; and the run after the rule leaves the Sim
// as compiled (the next run without the rule is the plain scenario's).
func TestPolicyActionsAtDayZero(t *testing.T) {
	always := org.When{Signal: org.SignalInventory, Node: "OEM", Above: fp(-1)}
	cases := []struct {
		name   string
		action org.Action
		edit   func(*supply.SimScenario)
	}{
		{"cover days", org.Action{Type: org.ActionChangePolicy, Node: "OEM", CoverDays: fp(30)},
			func(s *supply.SimScenario) {
				s.Policies.Nodes = map[supply.NodeID]supply.Policy{"OEM": {CoverDays: 30}}
			}},
		{"allocation", org.Action{Type: org.ActionChangePolicy, Node: "OEM", Allocation: supply.AllocPriority},
			func(s *supply.SimScenario) { s.Policies.Allocation = supply.AllocPriority }},
		{"substitution", org.Action{Type: org.ActionSubstituteGrade, Node: "OEM", RatePerYear: fp(0.1), MaxShare: fp(0.3)},
			func(s *supply.SimScenario) {
				s.Substitutions = []supply.Substitution{{Node: "OEM", From: s.Start, RatePerYear: 0.1, MaxShare: 0.3}}
			}},
	}
	for _, tc := range cases {
		s := licenceScenario(t, 0.5)
		s.Supply.Days = 400
		s.Org.Rules = []org.Rule{{ID: "r", Actor: "buyer", When: always, Action: tc.action}}
		got := run(t, s, org.Options{Seed: 3})
		want := licenceScenario(t, 0.5)
		want.Supply.Days = 400
		tc.edit(want.Supply)
		ref := run(t, want, org.Options{Seed: 3})
		if !reflect.DeepEqual(got.Result, ref.Result) {
			t.Errorf("%s: the action on day 0 differs from the scenario's own (lost %v vs %v)", tc.name, got.Lost, ref.Lost)
		}
		plain := licenceScenario(t, 0.5)
		plain.Supply.Days = 400
		if p := run(t, plain, org.Options{Seed: 3}); p.Lost == got.Lost && tc.name != "allocation" {
			t.Errorf("%s: the action changed nothing (lost %v)", tc.name, p.Lost)
		}
	}
}

// TestActionErrors: bad actions and signals name their field.
func TestActionErrors(t *testing.T) {
	cases := []struct {
		name  string
		rule  org.Rule
		field string
	}{
		{"policy without change", org.Rule{Action: org.Action{Type: org.ActionChangePolicy, Node: "OEM"}}, "org.rules[0].action"},
		{"policy unknown node", org.Rule{Action: org.Action{Type: org.ActionChangePolicy, Node: "X", CoverDays: fp(3)}}, "org.rules[0].action.node"},
		{"negative cover", org.Rule{Action: org.Action{Type: org.ActionChangePolicy, Node: "OEM", CoverDays: fp(-3)}}, "org.rules[0].action.cover_days"},
		{"bad allocation", org.Rule{Action: org.Action{Type: org.ActionChangePolicy, Node: "OEM", Allocation: "fifo"}}, "org.rules[0].action.allocation"},
		{"substitute without share", org.Rule{Action: org.Action{Type: org.ActionSubstituteGrade, Node: "OEM", RatePerYear: fp(0.1)}}, "org.rules[0].action.max_share"},
		{"substitute no demand", org.Rule{Action: org.Action{Type: org.ActionSubstituteGrade, Node: "S1", RatePerYear: fp(0.1), MaxShare: fp(0.2)}}, "org.rules[0].action.node"},
		{"licences unknown control", org.Rule{Action: org.Action{Type: org.ActionApplyForLicences, Control: "x"}}, "org.rules[0].action.control"},
		{"control with wrong action", org.Rule{Action: org.Action{Type: org.ActionActivateArc, Arc: "S2->OEM", Control: "lic"}}, "org.rules[0].action.control"},
		{"price without material", org.Rule{When: org.When{Signal: org.SignalPrice, Above: fp(1)}, Action: org.Action{Type: org.ActionActivateArc, Arc: "S2->OEM"}}, "org.rules[0].when.material"},
		{"price not in scenario", org.Rule{When: org.When{Signal: org.SignalPrice, Material: "Dy", Above: fp(1)}, Action: org.Action{Type: org.ActionActivateArc, Arc: "S2->OEM"}}, "org.rules[0].when.material"},
		{"alarm unknown node", org.Rule{When: org.When{Signal: org.SignalPlantAlarm, Node: "X", Above: fp(0)}, Action: org.Action{Type: org.ActionActivateArc, Arc: "S2->OEM"}}, "org.rules[0].when.node"},
		{"refused unknown control", org.Rule{When: org.When{Signal: org.SignalLicenceRefused, Control: "y", Above: fp(0)}, Action: org.Action{Type: org.ActionActivateArc, Arc: "S2->OEM"}}, "org.rules[0].when.control"},
	}
	for _, tc := range cases {
		s := licenceScenario(t, 1)
		r := tc.rule
		r.ID, r.Actor = "r", "buyer"
		if r.When.Signal == "" {
			r.When = org.When{Signal: org.SignalInventory, Node: "OEM", Below: fp(1)}
		}
		s.Org.Rules = []org.Rule{r}
		var fe *org.FieldError
		if err := s.Validate(); !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: got %v, want a field error at %s", tc.name, err, tc.field)
		}
	}
	s := licenceScenario(t, 1)
	s.Org.Alarms = []org.Alarm{{Node: "S1", Date: "2026-13-01"}}
	s.Org.Rules = []org.Rule{{ID: "r", Actor: "buyer", When: org.When{Signal: org.SignalPlantAlarm, Node: "S1", Above: fp(0)}, Action: org.Action{Type: org.ActionActivateArc, Arc: "S2->OEM"}}}
	var fe *org.FieldError
	if err := s.Validate(); !errors.As(err, &fe) || fe.Field != "org.alarms[0].date" {
		t.Errorf("bad alarm date: %v", err)
	}
}

// TestSignalsActionsExample: the example file of the new signals and
// actions decodes and runs; its rules on the control, the days of cover,
// the price and the plant alarm fire on the days the file implies (the
// control announced on day 0; the price step of 2026-02-15 read on
// 2026-02-16; the alarm at 30.5 h after 2026-03-01, on 2026-03-02, read on
// 2026-03-03).
func TestSignalsActionsExample(t *testing.T) {
	r := run(t, load(t, "signals_actions.json"), org.Options{ZeroLatency: true})
	want := map[string]supply.Date{"apply-early": "2026-01-01", "more-cover": "2026-02-16", "plant-check": "2026-03-03"}
	for _, d := range r.Decisions {
		if w, ok := want[d.Rule]; ok && d.SignalDay != w {
			t.Errorf("%s: signal day %s, want %s", d.Rule, d.SignalDay, w)
		}
		delete(want, d.Rule)
	}
	if len(want) != 0 {
		t.Errorf("rules that did not fire: %v", want)
	}
}
