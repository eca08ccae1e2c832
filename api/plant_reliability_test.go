package api_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlantReliabilityRoutes(t *testing.T) {
	e := start(t, options{noModels: true})
	csv, err := os.ReadFile(filepath.Join("..", "plant", "reliability", "testdata", "nist_8_4_1_3_censored.csv"))
	if err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", "/plant/reliability/fit?distribution=auto", csv, "Content-Type", "text/csv")
	if r.status != 200 {
		t.Fatalf("fit: %d %s", r.status, r.body)
	}
	fit := r.json(t)
	// NIST/SEMATECH e-Handbook §8.4.1.3: the Weibull wins by AIC, β 1.7208.
	if fit["distribution"] != "weibull" || math.Abs(fit["shape"].(float64)-1.7208) > 1e-4 {
		t.Errorf("fit = %s", r.body)
	}
	r = e.do("POST", "/plant/reliability/fit", `{"data":[{"time":10,"failed":1},{"time":20,"failed":1},{"time":30,"failed":0}],"distribution":"exponential"}`)
	if r.status != 200 || math.Abs(r.json(t)["scale"].(float64)-30) > 1e-9 {
		t.Errorf("JSON fit: %d %s (want scale 60/2 = 30)", r.status, r.body)
	}
	r = e.do("POST", "/plant/reliability/replace", `{"shape":2.5,"scale":1000,"cost_preventive":1,"cost_failure":10}`)
	if r.status != 200 {
		t.Fatalf("replace: %d %s", r.status, r.body)
	}
	for _, k := range []string{"interval", "cost_rate", "run_to_failure_cost_rate"} {
		if _, ok := r.json(t)[k].(float64); !ok {
			t.Errorf("replace: %s missing: %s", k, r.body)
		}
	}
	r = e.do("POST", "/plant/availability", `{"kind":"parallel","blocks":[{"kind":"unit","availability":0.9},{"kind":"unit","availability":0.9}]}`)
	if r.status != 200 || math.Abs(r.json(t)["availability"].(float64)-0.99) > 1e-12 {
		t.Errorf("availability: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/plant/maintenance/plan", `{"horizon":1000,"items":[{"id":"p","shape":3,"scale":500,"cost_preventive":1,"cost_failure":10,"mttr_corrective":5}]}`)
	if r.status != 200 || !strings.Contains(string(r.body), `"work_orders"`) {
		t.Errorf("plan: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/plant/oee", `{"planned_time":10,"run_time":9,"nameplate_rate":1,"output":9,"in_spec_output":9}`)
	if r.status != 200 || math.Abs(r.json(t)["oee"].(float64)-0.9) > 1e-12 {
		t.Errorf("oee: %d %s", r.status, r.body)
	}

	bad := []struct{ path, body, ct, want string }{
		{"/plant/reliability/fit", "time\n1\n", "text/csv", `missing column \"failed\"`},
		{"/plant/reliability/fit", "time,failed\n3,1\n2,1\n", "text/csv", "row 2: time: 2 is less than"},
		{"/plant/reliability/fit", "time,failed\n3,0\n", "text/csv", "no failures"},
		{"/plant/reliability/fit", `{"data":[{"time":1,"failed":2}]}`, "", "data[0].failed: 2"},
		{"/plant/reliability/replace", `{"shape":2,"scale":1,"cost_failure":1}`, "", "cost_preventive: missing"},
		{"/plant/availability", `{"kind":"k_of_n","k":2,"blocks":[{"kind":"unit","mtbf":1}]}`, "", "k: 2 is not between"},
	}
	for _, b := range bad {
		var hdr []string
		if b.ct != "" {
			hdr = []string{"Content-Type", b.ct}
		}
		r := e.do("POST", b.path, b.body, hdr...)
		if r.status != 400 || !strings.Contains(string(r.body), b.want) {
			t.Errorf("POST %s %q = %d %s, want 400 with %q", b.path, b.body, r.status, r.body, b.want)
		}
		r.errCode(t)
	}
}
