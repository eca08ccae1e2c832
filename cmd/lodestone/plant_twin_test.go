package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlantEstimateContract runs `lodestone plant estimate SPEC.json
// --json` and checks the JSON fields of the issue-13 contract exactly as
// written there, and that bad input names the field.
func TestPlantEstimateContract(t *testing.T) {
	spec := filepath.Join(repoRoot(t), "plant", "estimate", "testdata", "ndpr-drift.json")
	code, out, errs := runSX(t, "", "plant", "estimate", spec, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var o struct {
		Estimates []struct {
			TH     *float64 `json:"t_h"`
			Stages []map[string]json.RawMessage
		} `json:"estimates"`
		Innovations []map[string]json.RawMessage `json:"innovations"`
		Alarms      []map[string]json.RawMessage `json:"alarms"`
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Estimates) == 0 || o.Estimates[0].TH == nil || len(o.Innovations) == 0 || len(o.Alarms) == 0 {
		t.Fatalf("output shape: %s", out[:min(400, len(out))])
	}
	for _, k := range []string{"stage", "aqueous_mg_per_L", "organic_mg_per_L"} {
		if _, ok := o.Estimates[0].Stages[0][k]; !ok {
			t.Errorf("stages[0] has no %q", k)
		}
	}
	for _, k := range []string{"t_h", "sensor", "nu", "s"} {
		if _, ok := o.Innovations[0][k]; !ok {
			t.Errorf("innovations[0] has no %q", k)
		}
	}
	kinds := map[string]bool{}
	for _, a := range o.Alarms {
		for _, k := range []string{"t_h", "kind", "sensor"} {
			if _, ok := a[k]; !ok {
				t.Errorf("alarm has no %q", k)
			}
		}
		var kind string
		_ = json.Unmarshal(a["kind"], &kind)
		kinds[kind] = true
	}
	if !kinds["sensor_drift"] {
		t.Errorf("no sensor_drift alarm: %v", kinds)
	}

	data, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), `"sensor": "xrf-raff-Pr"`, `"sensor": "nope"`, 1)
	code, _, errs = runSX(t, bad, "plant", "estimate", "-")
	if code == 0 || !strings.Contains(errs, "measurements[1].sensor") {
		t.Errorf("unknown sensor: exit %d, %s", code, errs)
	}
}

// TestPlantControlAndTrain runs the control comparison and a training
// session replay from their example files.
func TestPlantControlAndTrain(t *testing.T) {
	root := repoRoot(t)
	code, out, errs := runSX(t, "", "plant", "control", filepath.Join(root, "plant", "control", "testdata", "ndpr-upset.json"))
	if code != 0 || !strings.Contains(out, "PI on organic flow") {
		t.Errorf("control: exit %d: %s %s", code, out, errs)
	}
	code, out, errs = runSX(t, "", "plant", "train", filepath.Join(root, "plant", "ots", "testdata", "ndpr-shift.json"), "--check-replay")
	if code != 0 || !strings.Contains(out, "same score bit for bit") {
		t.Errorf("train: exit %d: %s %s", code, out, errs)
	}
}
