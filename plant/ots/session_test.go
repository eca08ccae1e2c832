package ots_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"lodestone/plant/ots"
)

func load(t testing.TB) *ots.SessionSpec {
	t.Helper()
	data, err := os.ReadFile("testdata/ndpr-shift.json")
	if err != nil {
		t.Fatal(err)
	}
	ss, err := ots.ParseSession(data)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// TestScriptedSession runs a scripted trainee (malfunctions, actions,
// recovery) and replays it: the same score, bit for bit.
func TestScriptedSession(t *testing.T) {
	ctx := context.Background()
	ss := load(t)
	_, s, err := ots.Replay(ctx, ss)
	if err != nil {
		t.Fatal(err)
	}
	sc := s.Score()
	t.Logf("score %+v", sc)
	if s.Time() != 30 {
		t.Errorf("session at %g h, want 30", s.Time())
	}
	if sc.Alarms != 4 || sc.Handled != 4 {
		t.Errorf("alarms %d handled %d, want 4 and 4", sc.Alarms, sc.Handled)
	}
	if v := s.View(); v.Purity < 0.6 {
		t.Errorf("final purity %.4f, want the trainee to have recovered the product (≥ 0.6)", v.Purity)
	}
	_, s2, err := ots.Replay(ctx, ss)
	if err != nil {
		t.Fatal(err)
	}
	if sc2 := s2.Score(); sc2 != sc {
		t.Errorf("replay score %+v, want %+v", sc2, sc)
	}
	// A trainee who does nothing loses the product and handles no alarm.
	idle := *ss
	idle.Events = []ots.EventSpec{{Kind: "advance", ToH: ptr(30)}}
	_, s3, err := ots.Replay(ctx, &idle)
	if err != nil {
		t.Fatal(err)
	}
	if si := s3.Score(); si.Total >= sc.Total || si.Handled != 0 {
		t.Errorf("idle trainee score %+v, want below the scripted %.2f with no alarm handled", si, sc.Total)
	}
}

// TestFrozen checks that a frozen session does not advance.
func TestFrozen(t *testing.T) {
	ss := load(t)
	ss.Events = []ots.EventSpec{{Kind: "freeze"}, {Kind: "advance", ToH: ptr(1)}}
	if _, _, err := ots.Replay(context.Background(), ss); err == nil || !strings.Contains(err.Error(), "frozen") {
		t.Errorf("advance of a frozen session: %v, want ErrFrozen", err)
	}
}

// TestBacktrack returns to a snapshot: the time and the score go back.
func TestBacktrack(t *testing.T) {
	ss := load(t)
	ss.Events = []ots.EventSpec{{Kind: "advance", ToH: ptr(2)}, {Kind: "snapshot", Name: "a"}, {Kind: "advance", ToH: ptr(8)}, {Kind: "backtrack", Name: "a"}}
	_, s, err := ots.Replay(context.Background(), ss)
	if err != nil {
		t.Fatal(err)
	}
	if s.Time() != 2 || s.Score().ElapsedH != 2 || len(s.View().Alarms) != 0 {
		t.Errorf("after backtrack: t %g, elapsed %g, alarms %d; want 2, 2, 0", s.Time(), s.Score().ElapsedH, len(s.View().Alarms))
	}
}

func ptr(v float64) *float64 { return &v }

// TestSpecErrors checks that bad input names the field.
func TestSpecErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/ndpr-shift.json")
	if err != nil {
		t.Fatal(err)
	}
	good := string(data)
	tests := []struct{ name, old, new, field string }{
		{"bad kind", `"kind": "pump_trip"`, `"kind": "meteor"`, "scenario.malfunctions[1].kind"},
		{"negative time", `"at_h": 5,`, `"at_h": -5,`, "scenario.malfunctions[0].at_h"},
		{"bad inlet", `"inlet": 1}`, `"inlet": 9}`, "scenario.malfunctions[1].inlet"},
		{"no limits", `"low": 0.40, `, ``, "scenario.monitor.low"},
		{"bad event", `{"kind": "freeze"}`, `{"kind": "dance"}`, "events[5].kind"},
		{"bad set", `"inlet": 2, "field": "flow_L_per_h", "value": 40`, `"inlet": 2, "field": "flow_L_per_h", "value": -40`, "events[2].value"},
		{"unknown field", `"sample_h"`, `"bogus": 1, "sample_h"`, "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := strings.Replace(good, tt.old, tt.new, 1)
			if s == good {
				t.Fatal("test case does not change the spec")
			}
			ss, err := ots.ParseSession([]byte(s))
			if err == nil {
				_, _, err = ots.Replay(context.Background(), ss)
			}
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %v, want one naming %s", err, tt.field)
			}
		})
	}
}

// FuzzParseSession checks that no input makes the decoders or checks panic.
func FuzzParseSession(f *testing.F) {
	data, err := os.ReadFile("testdata/ndpr-shift.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"scenario": {"malfunctions": [{}]}, "events": [{"kind": "set"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ss, err := ots.ParseSession(data)
		if err != nil {
			return
		}
		// Scenario checks only: a fuzzed event log may be long.
		_, _ = ss.Scenario.Case()
		for _, e := range ss.Events {
			b, _ := json.Marshal(e)
			_, _ = ots.ParseEvent(b)
		}
	})
}
