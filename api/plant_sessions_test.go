package api_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestPlantSessionRoutes drives a training session through the API: create
// from the scripted session's scenario, post the trainee's events one by
// one (with a rejected one in between), replay, and compare the score with
// the engine's replay of the same log (plant/ots tests).
func TestPlantSessionRoutes(t *testing.T) {
	e := start(t, options{noModels: true})
	data, err := os.ReadFile(filepath.Join("..", "plant", "ots", "testdata", "ndpr-shift.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Scenario json.RawMessage   `json:"scenario"`
		Events   []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	r := e.mustDo("PUT", "/plant/sessions/shift-1", `{"scenario": `+string(file.Scenario)+`}`, 201)
	if got := r.json(t)["id"]; got != "shift-1" {
		t.Fatalf("id %v", got)
	}
	e.mustDo("PUT", "/plant/sessions/shift-1", `{"scenario": `+string(file.Scenario)+`}`, 412)
	for i, ev := range file.Events {
		e.mustDo("POST", "/plant/sessions/shift-1/events", ev, 200)
		if i == 2 {
			// A bad event is refused and not logged.
			r := e.do("POST", "/plant/sessions/shift-1/events", `{"kind": "set", "inlet": 9, "field": "flow_L_per_h", "value": 1}`)
			if r.status != 400 {
				t.Errorf("bad event: %d %s", r.status, r.body)
			}
		}
	}
	r = e.mustDo("GET", "/plant/sessions/shift-1", nil, 200)
	state := r.json(t)["state"].(map[string]any)
	score := state["score"].(map[string]any)
	if state["t_h"] != 30.0 || score["alarms_handled"] != 4.0 {
		t.Errorf("state %s", r.body)
	}
	r = e.mustDo("POST", "/plant/sessions/shift-1/replay", nil, 200)
	if r.json(t)["same_score"] != true {
		t.Errorf("replay: %s", r.body)
	}
	r = e.mustDo("GET", "/plant/sessions/shift-1/log", nil, 200)
	if n := len(r.json(t)["events"].([]any)); n != len(file.Events) {
		t.Errorf("log has %d events, want %d", n, len(file.Events))
	}
	e.mustDo("GET", "/plant/sessions/shift-1/snapshots/after%20upset", nil, 200)
	e.mustDo("GET", "/plant/sessions/shift-1/snapshots/none", nil, 404)
	r = e.mustDo("GET", "/plant/sessions", nil, 200)
	if n := len(r.json(t)["value"].([]any)); n != 1 {
		t.Errorf("list: %s", r.body)
	}
	// Frozen sessions refuse to advance with 409.
	e.mustDo("POST", "/plant/sessions/shift-1/events", `{"events": [{"kind": "freeze"}]}`, 200)
	e.mustDo("POST", "/plant/sessions/shift-1/events", `{"kind": "advance", "to_h": 30}`, 409)
	e.mustDo("DELETE", "/plant/sessions/shift-1", nil, 204)
	e.mustDo("GET", "/plant/sessions/shift-1", nil, 404)
}

// TestPlantEstimateControlRoutes runs the offline soft sensor and the
// control comparison through the API on their example specs.
func TestPlantEstimateControlRoutes(t *testing.T) {
	e := start(t, options{noModels: true})
	for _, tc := range []struct{ path, file, key string }{
		{"/plant/estimate", filepath.Join("..", "plant", "estimate", "testdata", "ndpr-drift.json"), "alarms"},
		{"/plant/control", filepath.Join("..", "plant", "control", "testdata", "ndpr-upset.json"), "strategies"},
	} {
		data, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		r := e.mustDo("POST", tc.path, data, 200)
		if _, ok := r.json(t)[tc.key]; !ok {
			t.Errorf("%s: no %s in %s", tc.path, tc.key, r.body[:min(200, len(r.body))])
		}
	}
	r := e.do("POST", "/plant/estimate", `{"cascade": {}, "sensors": [], "measurements": [{"t_h": -1}]}`)
	if r.status != 400 {
		t.Errorf("bad estimate spec: %d %s", r.status, r.body)
	}
}
