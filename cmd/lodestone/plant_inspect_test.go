package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlantInspectCommands(t *testing.T) {
	spec := filepath.Join(repoRoot(t), "plant", "inspect", "testdata", "inspect.json")
	code, out, errs := runSX(t, "", "plant", "inspect", spec, "--json")
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, errs)
	}
	var o struct {
		Findings []map[string]any `json:"findings"`
		Round    map[string]any   `json:"round"`
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil || len(o.Findings) != 4 || o.Round["findings"] != 4.0 {
		t.Errorf("inspect: %v %s", err, out)
	}
	code, _, errs = runSX(t, `{"rules":[{"id":"a","kind":"twin","tag":"x"}],"samples":[{"t_h":2,"tag":"x"},{"t_h":1,"tag":"x"}]}`, "plant", "inspect", "-")
	if code == 0 || !strings.Contains(errs, "samples[1].t_h") {
		t.Errorf("unsorted: exit %d: %s", code, errs)
	}
	code, out, errs = runSX(t, "", "plant", "fault-study", "--hours", "15", "--json")
	if code != 0 || !strings.Contains(out, `"synthetic": true`) || !strings.Contains(out, `"with_twin_h"`) {
		t.Errorf("fault-study: exit %d: %s %s", code, errs, out)
	}
	cfg := filepath.Join(repoRoot(t), "connector", "testdata", "connectors.json")
	if code, out, errs := runSX(t, "", "plant", "connectors", cfg); code != 0 || !strings.Contains(out, "plant-opcua") {
		t.Errorf("connectors: exit %d: %s %s", code, errs, out)
	}
	code, _, errs = runSX(t, `{"connectors":[{"id":"a","kind":"mqtt","broker":"tcp://x","mappings":[{"topic":"a/{who}","twin":"t","telemetry":"v"}]}]}`, "plant", "connectors", "-")
	if code == 0 || !strings.Contains(errs, "connectors[0].mappings[0].topic") {
		t.Errorf("bad connectors: exit %d: %s", code, errs)
	}
}

// TestPlantInspectTelemetryCLI: a SPEC with telemetry reads the demo's
// replayed analyser readings from the server (POST /plant/inspect).
func TestPlantInspectTelemetryCLI(t *testing.T) {
	s := startDemoServer(t, t.TempDir())
	defer stopServer(t, s)
	spec := `{"rules": [{"id": "nd-frozen", "kind": "frozen", "tag": "AT-1.Nd", "window": 3}, {"id": "nd-hi", "kind": "limit", "tag": "AT-1.Nd", "hi": 11000}],
	  "telemetry": {"from": "2025-01-01T00:00:00Z", "sources": [{"twin": "ref-sep-plant-train-1-xrf", "name": "assay", "key": "Nd", "tag": "AT-1.Nd"}]}}`
	code, out, errs := runSX(t, spec, "plant", "inspect", "-", "--server", s.URL(), "--json")
	var o struct {
		Findings []struct {
			Rule string  `json:"rule"`
			T    float64 `json:"t_h"`
		} `json:"findings"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &o) != nil || len(o.Findings) == 0 || o.Findings[0].Rule != "nd-hi" {
		t.Fatalf("inspect over telemetry: exit %d: %s %s", code, errs, out)
	}
	bad := strings.Replace(spec, `"key": "Nd"`, `"key": "Dy"`, 1)
	if code, _, errs := runSX(t, bad, "plant", "inspect", "-", "--server", s.URL()); code == 0 || !strings.Contains(errs, "telemetry.sources[0].key") {
		t.Errorf("bad key: exit %d: %s", code, errs)
	}
}
