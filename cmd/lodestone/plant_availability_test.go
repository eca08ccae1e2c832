package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlantAvailabilityCLI runs `lodestone plant availability` on the
// demo's reference plant: without life data it says which models lack it
// and writes nothing; with figures (test values) it computes and, with
// --write, stores the availability on the plant twin.
func TestPlantAvailabilityCLI(t *testing.T) {
	s := startDemoServer(t, t.TempDir())
	defer stopServer(t, s)
	code, out, errs := runSX(t, "", "plant", "availability", "ref-sep-plant", "--server", s.URL(), "--write")
	if code != 0 || !strings.Contains(out, "plant ref-sep-plant: availability not computed: no FailureRecord twins (and no figures) for the Filter (2 units)") {
		t.Errorf("no life data: exit %d: %s %s", code, errs, out)
	}
	fig := filepath.Join(t.TempDir(), "figures.json")
	figs := map[string]map[string]any{}
	for _, m := range []string{"Motor", "Gearbox", "Pump", "Flowmeter", "Filter"} {
		figs[m] = map[string]any{"mtbf": 10000.0, "mttr": 10.0, "source": "test figures (not data)"}
	}
	b, _ := json.Marshal(figs)
	if err := os.WriteFile(fig, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runSX(t, "", "plant", "availability", "ref-sep-plant", "--server", s.URL(), "--figures", fig, "--write", "--json")
	var res struct {
		Computed     bool     `json:"computed"`
		Written      bool     `json:"written"`
		Availability *float64 `json:"availability"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || !res.Computed || !res.Written || res.Availability == nil || !(*res.Availability > 0 && *res.Availability < 1) {
		t.Errorf("figures --write --json: exit %d: %s %s", code, errs, out)
	}
	code, out, errs = runSX(t, "", "twin", "get", "ref-sep-plant", "--server", s.URL(), "--json")
	if code != 0 || !strings.Contains(out, "mean availability of 2 SX trains") {
		t.Errorf("the plant twin holds no computed availability: exit %d: %s %s", code, errs, out[:min(len(out), 600)])
	}
	if code, _, errs := runSX(t, "", "plant", "availability", "ref-sep-plant-train-1", "--server", s.URL()); code == 0 || !strings.Contains(errs, "not a SeparationPlant") {
		t.Errorf("a section: exit %d: %s", code, errs)
	}
}
