package api_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lodestone/models"
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

// TestPlantEquipmentReliability stores the NIST §8.4.1.3 life data as
// FailureRecord twins of one pump and fits them through the twin graph.
func TestPlantEquipmentReliability(t *testing.T) {
	e := start(t, options{noModels: true})
	var docs []string
	for _, f := range models.Files() {
		docs = append(docs, string(f.Data))
	}
	e.mustDo("POST", "/models", "["+strings.Join(docs, ",")+"]", 201)
	e.mustDo("PUT", "/digitaltwins/pump-1", `{"$metadata":{"$model":"dtmi:lodestone:Pump;1"},"name":"pump 1"}`, 200)
	times := []float64{54, 187, 216, 240, 244, 335, 361, 373, 375, 386}
	for i := range 20 {
		id := fmt.Sprintf("fr-%02d", i)
		body := `{"$metadata":{"$model":"dtmi:lodestone:FailureRecord;1"},"operatingTime":500,"suspension":true}`
		if i < len(times) {
			body = fmt.Sprintf(`{"$metadata":{"$model":"dtmi:lodestone:FailureRecord;1"},"operatingTime":%v,"suspension":false}`, times[i])
		}
		e.mustDo("PUT", "/digitaltwins/"+id, body, 200)
		e.mustDo("PUT", "/digitaltwins/"+id+"/relationships/of-pump", `{"$targetId":"pump-1","$relationshipName":"of"}`, 200)
	}
	r := e.do("GET", "/plant/equipment/pump-1/reliability", nil)
	if r.status != 200 {
		t.Fatalf("fit: %d %s", r.status, r.body)
	}
	fit := r.json(t)
	if math.Abs(fit["shape"].(float64)-1.7208) > 1e-4 || fit["n"].(float64) != 20 || fit["failures"].(float64) != 10 {
		t.Errorf("fit = %s", r.body)
	}
	if r := e.do("GET", "/plant/equipment/nope/reliability", nil); r.status != 404 {
		t.Errorf("unknown twin: %d %s", r.status, r.body)
	}
	e.mustDo("PUT", "/digitaltwins/pump-2", `{"$metadata":{"$model":"dtmi:lodestone:Pump;1"}}`, 200)
	if r := e.do("GET", "/plant/equipment/pump-2/reliability", nil); r.status != 400 || !strings.Contains(string(r.body), "no FailureRecord twins") {
		t.Errorf("no records: %d %s", r.status, r.body)
	}
}

// TestPlantMaintenancePlanWrite: ?write=true writes each preventive work
// order as a WorkOrder twin (due = start + due hours) with appliesTo to
// its item's twin, and refuses a plan without start or with an item that
// is not a twin, writing nothing.
func TestPlantMaintenancePlanWrite(t *testing.T) {
	e := start(t, options{noModels: true})
	loadOntology(t, e)
	e.mustDo("PUT", "/digitaltwins/pump-1", `{"$metadata":{"$model":"dtmi:lodestone:Pump;1"},"name":"pump 1"}`, 200)
	plan := `{"horizon":2000,"items":[{"id":"pump-1","shape":3,"scale":500,"cost_preventive":1,"cost_failure":10,"mttr_preventive":2,"mttr_corrective":5,"interval":600}]}`
	for _, b := range []struct{ path, body, want string }{
		{"/plant/maintenance/plan?write=true", plan, "start: required with write=true"},
		{"/plant/maintenance/plan?write=true&start=2026-01-01T00:00:00Z", strings.Replace(plan, `"pump-1"`, `"pump-9"`, 1), `\"pump-9\" is not a twin`},
	} {
		if r := e.do("POST", b.path, b.body); r.status != 400 || !strings.Contains(string(r.body), b.want) {
			t.Errorf("POST %s = %d %s, want 400 with %q", b.path, r.status, r.body, b.want)
		}
	}
	if r := e.do("GET", "/digitaltwins/wo-pump-9-1", nil); r.status != 404 {
		t.Errorf("a refused plan wrote a work order: %d", r.status)
	}
	r := e.do("POST", "/plant/maintenance/plan?write=true&start=2026-01-01T00:00:00Z", plan)
	if r.status != 200 {
		t.Fatalf("plan: %d %s", r.status, r.body)
	}
	items := r.json(t)["items"].([]any)
	orders := items[0].(map[string]any)["work_orders"].([]any)
	// Interval 600 h and 2 h of preventive work: due at 600, 1202, 1804.
	if len(orders) != 3 {
		t.Fatalf("%d work orders, want 3: %s", len(orders), r.body)
	}
	for i, o := range orders {
		wo := o.(map[string]any)
		id := wo["id"].(string)
		tw := e.do("GET", "/digitaltwins/"+id, nil)
		if tw.status != 200 {
			t.Fatalf("work order %s not written: %d %s", id, tw.status, tw.body)
		}
		doc := tw.json(t)
		due := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(wo["due"].(float64) * float64(time.Hour))).Format(time.RFC3339)
		if doc["$metadata"].(map[string]any)["$model"] != "dtmi:lodestone:WorkOrder;1" || doc["status"] != "planned" || doc["kind"] != "preventive" || doc["due"] != due {
			t.Errorf("work order %d: %s, want due %s", i, tw.body, due)
		}
		rel := e.do("GET", "/digitaltwins/"+id+"/relationships/appliesTo", nil)
		if rel.status != 200 || rel.json(t)["$targetId"] != "pump-1" {
			t.Errorf("work order %s appliesTo: %d %s", id, rel.status, rel.body)
		}
	}
}
