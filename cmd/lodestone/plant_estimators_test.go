package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestPlantEstimatorsCLI: the example estimators file checks, with its
// defaults in --json; a bad sensor is an error naming the field.
func TestPlantEstimatorsCLI(t *testing.T) {
	file := filepath.Join(repoRoot(t), "connector", "softsensor", "testdata", "estimators.json")
	if code, out, errs := runSX(t, "", "plant", "estimators", file); code != 0 || !strings.Contains(out, "ndpr-1\ttwin ndpr-1-softsensor\t5 sensors") {
		t.Errorf("estimators: exit %d: %s %s", code, errs, out)
	}
	if code, out, errs := runSX(t, "", "plant", "estimators", file, "--json"); code != 0 || !strings.Contains(out, `"reorder_h": 2`) {
		t.Errorf("estimators --json: exit %d: %s %s", code, errs, out)
	}
	bad := `{"estimators":[{"id":"a","twin":"t","cascade":{},"sensors":[{"id":"s","stage":1,"phase":"aqueous","element":"Nd","sd_mg_per_L":1,"source":{"telemetry":"x"}}]}]}`
	if code, _, errs := runSX(t, bad, "plant", "estimators", "-"); code == 0 || !strings.Contains(errs, "estimators[0].sensors[0].source.twin") {
		t.Errorf("bad estimators: exit %d: %s", code, errs)
	}
}
