package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlantReliabilityContract runs the commands of the issue-13 contract
// and checks the JSON fields exactly as written there.
func TestPlantReliabilityContract(t *testing.T) {
	data := filepath.Join(repoRoot(t), "plant", "reliability", "testdata", "lieblein_zelen_ball_bearings.csv")
	code, out, errs := runSX(t, "", "plant", "reliability", "fit", data, "--json")
	if code != 0 {
		t.Fatalf("fit: exit %d: %s", code, errs)
	}
	var fit map[string]any
	if err := json.Unmarshal([]byte(out), &fit); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"distribution", "shape", "scale", "mttf", "n", "failures", "log_likelihood", "shape_ci", "scale_ci"} {
		if _, ok := fit[k]; !ok {
			t.Errorf("fit output has no %q: %s", k, out)
		}
	}
	if fit["distribution"] != "weibull" || math.Abs(fit["shape"].(float64)-2.102) > 0.001 || fit["n"].(float64) != 23 {
		t.Errorf("fit = %s", out)
	}
	if ci := fit["shape_ci"].([]any); len(ci) != 2 {
		t.Errorf("shape_ci = %v, want [lo, hi]", ci)
	}

	for _, d := range []string{"exponential", "lognormal", "auto"} {
		code, out, errs := runSX(t, "", "plant", "reliability", "fit", data, "--json", "--distribution", d)
		if code != 0 {
			t.Fatalf("fit --distribution %s: exit %d: %s", d, code, errs)
		}
		if d != "auto" && !strings.Contains(out, `"distribution": "`+d+`"`) {
			t.Errorf("fit --distribution %s: %s", d, out)
		}
	}

	code, out, errs = runSX(t, `{"shape": 2.5, "scale": 1000, "cost_preventive": 1, "cost_failure": 10}`, "plant", "reliability", "replace", "-", "--json")
	if code != 0 {
		t.Fatalf("replace: exit %d: %s", code, errs)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"interval", "cost_rate", "run_to_failure_cost_rate"} {
		if _, ok := rep[k].(float64); !ok {
			t.Errorf("replace output %q is not a number: %s", k, out)
		}
	}
}

func TestPlantReliabilityBadInput(t *testing.T) {
	tests := []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"missing column", "time\n1\n", []string{"plant", "reliability", "fit", "-"}, `header: missing column "failed"`},
		{"bad failed", "time,failed\n1,yes\n", []string{"plant", "reliability", "fit", "-"}, `row 1: failed: "yes" is not 0`},
		{"unsorted", "time,failed\n5,1\n3,1\n", []string{"plant", "reliability", "fit", "-"}, "row 2: time: 3 is less than"},
		{"negative", "time,failed\n-5,1\n", []string{"plant", "reliability", "fit", "-"}, "row 1: time: -5 is negative"},
		{"all censored", "time,failed\n5,0\n6,0\n", []string{"plant", "reliability", "fit", "-"}, "no failures"},
		{"replace missing field", `{"shape":2,"scale":1,"cost_failure":3}`, []string{"plant", "reliability", "replace", "-"}, "cost_preventive: missing"},
		{"plan bad item", `{"horizon":10,"items":[{"id":"p","shape":2,"scale":0,"cost_preventive":1,"cost_failure":2}]}`, []string{"plant", "maintenance", "plan", "-"}, "items[0].scale: 0 must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runSX(t, tt.stdin, tt.args...)
			if code != 1 || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errs, tt.want)
			}
		})
	}
}

func TestPlantAvailabilityAndPlan(t *testing.T) {
	code, out, errs := runSX(t, `{"kind":"series","blocks":[{"kind":"unit","mtbf":990,"mttr":10},{"kind":"standby","n":2,"mtbf":1000,"mttr":10}]}`,
		"plant", "reliability", "availability", "-", "--json")
	if code != 0 {
		t.Fatalf("availability: exit %d: %s", code, errs)
	}
	var av struct{ Availability float64 }
	if err := json.Unmarshal([]byte(out), &av); err != nil {
		t.Fatal(err)
	}
	rho := 0.01
	if want := 0.99 * (1 + rho) / (1 + rho + rho*rho); math.Abs(av.Availability-want) > 1e-12 {
		t.Errorf("availability = %v, want %v", av.Availability, want)
	}
	code, out, errs = runSX(t, `{"horizon":8760,"items":[{"id":"gearbox","shape":2.5,"scale":3000,"cost_preventive":1000,"cost_failure":8000,"mttr_preventive":4,"mttr_corrective":24}]}`,
		"plant", "maintenance", "plan", "-")
	if code != 0 || !strings.Contains(out, "gearbox") {
		t.Fatalf("plan: exit %d: %s %s", code, out, errs)
	}
}
