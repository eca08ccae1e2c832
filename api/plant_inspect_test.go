package api_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlantInspectTelemetry runs inspection rules over stored telemetry:
// the demo replays the Nd readings of examples/plant/ndpr-drift.json
// (xrf-feed-Nd, from 2025-01-01T00:00Z) into the train-1 analyser's assay
// telemetry; a limit rule over a window of it finds the first reading
// above the limit at its time since the window's start, as computed here
// from the file.
func TestPlantInspectTelemetry(t *testing.T) {
	e := start(t, options{demo: true})
	raw, err := os.ReadFile(filepath.Join("..", "examples", "plant", "ndpr-drift.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Measurements []struct {
			T      float64 `json:"t_h"`
			Sensor string  `json:"sensor"`
			Value  float64 `json:"value"`
		} `json:"measurements"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	const hi, fromH, toH = 11000.0, 5.0, 15.0
	want := math.NaN()
	for _, m := range f.Measurements {
		if m.Sensor == "xrf-feed-Nd" && m.T >= fromH && m.T < toH && m.Value > hi && math.IsNaN(want) {
			want = m.T - fromH
		}
	}
	if math.IsNaN(want) {
		t.Fatal("no reading of the file above the limit in the window: change the test's limit")
	}
	tel := `"telemetry": {"from": "2025-01-01T05:00:00Z", "to": "2025-01-01T15:00:00Z", "sources": [{"twin": "ref-sep-plant-train-1-xrf", "name": "assay", "key": "Nd", "tag": "AT-1.Nd"}]}`
	body := `{"rules": [{"id": "nd-hi", "kind": "limit", "tag": "AT-1.Nd", "equipment": "ref-sep-plant-train-1-xrf", "hi": 11000}],
		"equipment": [{"id": "ref-sep-plant-train-1-xrf", "name": "train 1 XRF"}], ` + tel + `}`
	r := e.mustDo("POST", "/plant/inspect", body, 200)
	var out struct {
		Findings []struct {
			T    float64 `json:"t_h"`
			Rule string  `json:"rule"`
		} `json:"findings"`
		Round struct {
			ToH float64 `json:"to_h"`
		} `json:"round"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) == 0 || out.Findings[0].Rule != "nd-hi" || math.Abs(out.Findings[0].T-want) > 1e-6 {
		t.Fatalf("findings %+v, want the first at %v h", out.Findings, want)
	}
	if out.Round.ToH > toH-fromH+1e-6 {
		t.Errorf("the round ends at %v h, after the window's %v h", out.Round.ToH, toH-fromH)
	}

	bad := []struct {
		body   string
		status int
		want   string
	}{
		{`{"rules": [{"id": "a", "kind": "limit", "tag": "x", "hi": 1}], "samples": [], ` + tel + `}`, 400, "give samples or telemetry, not both"},
		{`{"rules": [{"id": "a", "kind": "limit", "tag": "x", "hi": 1}], "telemetry": {"sources": [{"twin": "t", "name": "n", "tag": "x"}]}}`, 400, "telemetry.from: required"},
		{`{"rules": [{"id": "a", "kind": "limit", "tag": "x", "hi": 1}], "telemetry": {"from": "2025-01-01T00:00:00Z", "sources": [{"twin": "ref-sep-plant-train-1-xrf", "name": "assay", "tag": "x"}]}}`, 400, "telemetry.sources[0].key"},
		{`{"rules": [{"id": "a", "kind": "limit", "tag": "x", "hi": 1}], "telemetry": {"from": "2025-01-01T00:00:00Z", "sources": [{"twin": "ref-sep-plant-train-1-xrf", "name": "assay", "key": "Dy", "tag": "x"}]}}`, 400, `no number \"Dy\"`},
		{`{"rules": [{"id": "a", "kind": "limit", "tag": "x", "hi": 1}], "telemetry": {"from": "2025-01-01T00:00:00Z", "sources": [{"twin": "nope", "name": "assay", "tag": "x"}]}}`, 404, "nope"},
		{`{"rules": [{"id": "a", "kind": "limit", "tag": "x", "hi": 1}], "telemetry": {"from": "2025-01-01T00:00:00Z", "sources": [{"twin": "t", "name": "assay"}]}}`, 400, "telemetry.sources[0]: twin, name and tag are required"},
		{`{"rules": [{"id": "a", "kind": "limit", "tag": "x", "hi": 1}], "telemetry": {"from": "2025-01-01T00:00:00Z", "sourcez": []}}`, 400, "telemetry: "},
	}
	for _, b := range bad {
		r := e.do("POST", "/plant/inspect", b.body)
		if r.status != b.status || !strings.Contains(string(r.body), b.want) {
			t.Errorf("POST /plant/inspect %s = %d %s, want %d with %q", b.body, r.status, r.body, b.status, b.want)
		}
	}
}
