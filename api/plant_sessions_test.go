package api_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/connector/softsensor"
	"lodestone/store"
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

// TestSessionFromEstimator: a live soft sensor's stored model state (here
// a session snapshot standing for it, as the estimator stores it:
// connector/softsensor TestLiveClean) is served by GET
// /plant/estimators/{id}/snapshot and starts a training session with
// ?start_from_estimator, whose clock continues from the snapshot's t_h.
func TestSessionFromEstimator(t *testing.T) {
	e := start(t, options{noModels: true})
	data, err := os.ReadFile(filepath.Join("..", "plant", "ots", "testdata", "ndpr-shift.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Scenario json.RawMessage `json:"scenario"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	scen := `{"scenario": ` + string(file.Scenario) + `}`
	e.mustDo("PUT", "/plant/sessions/src", scen, 201)
	e.mustDo("POST", "/plant/sessions/src/events", `{"events": [{"kind": "advance", "to_h": 3}, {"kind": "snapshot", "name": "live"}]}`, 200)
	snap := e.mustDo("GET", "/plant/sessions/src/snapshots/live", nil, 200).body
	ctx := t.Context()
	// Before the estimator has a snapshot: 404s naming what is missing.
	e.mustDo("GET", "/plant/estimators/ndpr-1/snapshot", nil, 404)
	if _, err := e.srv.Store.PutDoc(ctx, store.Doc{Kind: softsensor.KindStatus, ID: "ndpr-1", Body: []byte(`{"id": "ndpr-1"}`)}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if r := e.do("POST", "/plant/sessions?start_from_estimator=ndpr-1", scen); r.status != 404 || !strings.Contains(string(r.body), "no snapshot yet") {
		t.Errorf("no snapshot: %d %s", r.status, r.body)
	}
	ms, _ := json.Marshal(softsensor.ModelSnapshot{Estimator: "ndpr-1", Twin: "ndpr-1-softsensor", TH: 3, Certified: true, Snapshot: snap})
	if _, err := e.srv.Store.PutDoc(ctx, store.Doc{Kind: softsensor.KindSnapshot, ID: "ndpr-1", Body: ms}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	got := e.mustDo("GET", "/plant/estimators/ndpr-1/snapshot", nil, 200).json(t)
	if got["t_h"] != 3.0 || got["snapshot"].(map[string]any)["t_h"] != 3.0 {
		t.Errorf("snapshot %v", got)
	}
	r := e.mustDo("PUT", "/plant/sessions/from-live?start_from_estimator=ndpr-1", scen, 201)
	if th := r.json(t)["state"].(map[string]any)["t_h"]; th != 3.0 {
		t.Errorf("session from the estimator starts at t_h %v, want 3", th)
	}
	log := e.mustDo("GET", "/plant/sessions/from-live/log", nil, 200).json(t)["scenario"].(map[string]any)
	if log["start_snapshot"] == nil || !strings.Contains(log["description"].(string), "started from live soft sensor ndpr-1 at t_h 3") {
		t.Errorf("the session's scenario does not record its start: %v", log["description"])
	}
	e.mustDo("POST", "/plant/sessions/from-live/replay", nil, 200)
	if r := e.do("POST", "/plant/sessions?start_from_estimator=nope", scen); r.status != 404 {
		t.Errorf("unknown estimator: %d %s", r.status, r.body)
	}
	withStart := strings.Replace(scen, `"cascade"`, `"start_snapshot": `+string(snap)+`, "cascade"`, 1)
	if r := e.do("POST", "/plant/sessions?start_from_estimator=ndpr-1", withStart); r.status != 400 || !strings.Contains(string(r.body), "start_snapshot already") {
		t.Errorf("both starts: %d %s", r.status, r.body)
	}
}
