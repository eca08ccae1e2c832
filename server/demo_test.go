package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"testing"
	"time"

	"lodestone/server"
	"lodestone/supply"
	"lodestone/world"
)

var updateDemo = flag.Bool("update", false, "rewrite examples/org/april-2025.json from the world (TestDemoOrgScenario)")

// demoOrgFile is the org scenario of the demo's story.
const demoOrgFile = "../examples/org/april-2025.json"

// demoOrgScenario builds examples/org/april-2025.json from the world: the
// april-2025 scenario for one year with the DLA stockpile at its assumed
// holding (examples/org/README.md) and its lane to the OEMs on standby, so
// that only the org's rule releases it; the description and "org" are kept
// from the file as written.
func demoOrgScenario(t *testing.T, current map[string]any) map[string]any {
	t.Helper()
	w, err := world.Load()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := w.Scenario(world.ScenarioApril2025, &world.ScenarioOptions{Days: 365,
		Network: world.NetworkOptions{StockpileTonnes: map[supply.NodeID]float64{"stockpile-us-dla": 5000}}})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range sc.Network.Arcs {
		if a.From == "stockpile-us-dla" {
			sc.Network.Arcs[i].Standby = true
		}
	}
	b, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	out["description"], out["org"] = current["description"], current["org"]
	return out
}

// TestDemoOrgScenario: the network, control and initial state of the
// story's org scenario are the world's (regenerate with -update when the
// world changes), and the org part is there.
func TestDemoOrgScenario(t *testing.T) {
	raw, err := os.ReadFile(demoOrgFile)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got["org"] == nil || got["description"] == nil {
		t.Fatalf("%s has no org or description (hand-written parts the generator keeps)", demoOrgFile)
	}
	want := demoOrgScenario(t, got)
	if *updateDemo {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(want); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(demoOrgFile, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s differs from the world's april-2025 scenario: regenerate with go test ./server -run DemoOrgScenario -update", demoOrgFile)
	}
}

// TestDemoReplayFileIsTheEstimatorsExample: the readings the demo replays
// are the estimator's example, byte for byte (examples/ embeds a copy).
func TestDemoReplayFileIsTheEstimatorsExample(t *testing.T) {
	a, err := os.ReadFile("../examples/plant/ndpr-drift.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../plant/estimate/testdata/ndpr-drift.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("examples/plant/ndpr-drift.json differs from plant/estimate/testdata/ndpr-drift.json: copy it again after regenerating the estimator's example")
	}
}

// TestDemoStory: a fresh demo stores the April 2025 run (GET /scenarios
// lists it, done, with demand lost), replays the analyser's readings and
// serves GET /demo/story; reopened, it stores the run no second time.
func TestDemoStory(t *testing.T) {
	dir := t.TempDir()
	open := func() *server.Server {
		o := server.DefaultOptions()
		o.DataDir, o.HTTPAddr, o.LoadDemo = dir, "127.0.0.1:0", true
		s, err := server.New(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	stop := func(s *server.Server) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	runs := func(base string) (n int, done bool, lost float64) {
		var list struct {
			Value []struct {
				Name, Status string
				KPIs         *struct {
					Lost float64 `json:"lostTonnes"`
				} `json:"kpis"`
			} `json:"value"`
		}
		getJSON(t, base+"/scenarios", &list)
		for _, r := range list.Value {
			if r.Name == server.DemoScenarioName {
				n++
				done = r.Status == "done"
				if r.KPIs != nil {
					lost = r.KPIs.Lost
				}
			}
		}
		return
	}
	s := open()
	base := s.URL()
	if n, done, lost := runs(base); n != 1 || !done || !(lost > 0) {
		t.Errorf("fresh demo: %d runs named %q, done %v, lost %v; want one done run that loses demand", n, server.DemoScenarioName, done, lost)
	}
	var story server.DemoStory
	getJSON(t, base+"/demo/story", &story)
	var tel struct {
		Value []struct {
			Value map[string]float64 `json:"value"`
		} `json:"value"`
	}
	getJSON(t, base+"/digitaltwins/"+story.Analyser+"/telemetry?name=assay&limit=1000", &tel)
	if len(tel.Value) != 100 {
		t.Errorf("replayed %d readings of %s, want the file's 100", len(tel.Value), story.Sensor)
	}
	var org struct {
		Decisions []json.RawMessage `json:"decisions"`
	}
	postJSON(t, base+"/org/run", story.OrgScenario, &org)
	if len(org.Decisions) != 1 {
		t.Errorf("the story's org scenario made %d decisions, want 1", len(org.Decisions))
	}
	stop(s)

	s = open()
	defer stop(s)
	if s.DemoLoaded() {
		t.Fatal("the reopened demo loaded the world again")
	}
	if n, _, _ := runs(s.URL()); n != 1 {
		t.Errorf("reopened demo: %d runs named %q, want still 1", n, server.DemoScenarioName)
	}
	getJSON(t, s.URL()+"/demo/story", &story)
}
