package api_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"lodestone/models"
)

// loadOntology posts the bundled models.
func loadOntology(t *testing.T, e *env) {
	t.Helper()
	var docs []string
	for _, f := range models.Files() {
		docs = append(docs, string(f.Data))
	}
	e.mustDo("POST", "/models", "["+strings.Join(docs, ",")+"]", 201)
}

// TestPlantTwinAvailability builds a one-train plant in the graph (a
// duty/standby pump pair P-1A/P-1B, a flowmeter, an analyser the train
// does without), stores failure records of the pumps and the flowmeter,
// and checks the chain's answer against closed forms (exponential fits:
// MTBF = total time / failures; MTTR = mean downtime; cold standby with
// one crew A = (1+ρ)/(1+ρ+ρ²)), then that ?write=true writes it to the
// plant twin with its source.
func TestPlantTwinAvailability(t *testing.T) {
	e := start(t, options{noModels: true})
	loadOntology(t, e)
	twins := map[string]string{
		"pl":  `{"$metadata":{"$model":"dtmi:lodestone:SeparationPlant;1"},"name":"test plant"}`,
		"tr":  `{"$metadata":{"$model":"dtmi:lodestone:PlantSection;1"},"sectionType":"sxTrain","trainNumber":1}`,
		"pa":  `{"$metadata":{"$model":"dtmi:lodestone:Pump;1"},"tag":"P-1A"}`,
		"pb":  `{"$metadata":{"$model":"dtmi:lodestone:Pump;1"},"tag":"P-1B"}`,
		"fm":  `{"$metadata":{"$model":"dtmi:lodestone:Flowmeter;1"},"tag":"FT-1"}`,
		"xrf": `{"$metadata":{"$model":"dtmi:lodestone:Analyser;1"},"tag":"AT-1"}`,
	}
	for id, doc := range twins {
		e.mustDo("PUT", "/digitaltwins/"+id, doc, 200)
	}
	rel := func(src, name, dst string) {
		e.mustDo("PUT", "/digitaltwins/"+src+"/relationships/"+name+"-"+dst, fmt.Sprintf(`{"$targetId":%q,"$relationshipName":%q}`, dst, name), 200)
	}
	rel("pl", "hasSection", "tr")
	for _, id := range []string{"pa", "pb", "fm", "xrf"} {
		rel("tr", "hasEquipment", id)
	}
	// Without records: not computed, and nothing written.
	r := e.do("POST", "/plant/equipment/pl/availability?write=true", nil)
	if r.status != 200 || r.json(t)["computed"] != false || !strings.Contains(string(r.body), "no FailureRecord twins (and no figures) for the Flowmeter (1 units), Pump (2 units)") || r.json(t)["written"] != false {
		t.Fatalf("no records: %d %s", r.status, r.body)
	}
	recs := []struct {
		id, of         string
		time, downtime float64
		suspension     bool
	}{
		{"r1", "pa", 1000, 10, false}, {"r2", "pb", 3000, 30, false}, {"r3", "pa", 2000, 0, true},
		{"r4", "fm", 5000, 5, false}, {"r5", "fm", 15000, 0, true}, {"r6", "xrf", 10, 1, false},
	}
	for _, rc := range recs {
		e.mustDo("PUT", "/digitaltwins/"+rc.id, fmt.Sprintf(`{"$metadata":{"$model":"dtmi:lodestone:FailureRecord;1"},"operatingTime":%v,"suspension":%v,"downtime":%v}`, rc.time, rc.suspension, rc.downtime), 200)
		rel(rc.id, "of", rc.of)
	}
	r = e.do("POST", "/plant/equipment/pl/availability?write=true", `{"distribution":"exponential"}`)
	if r.status != 200 {
		t.Fatalf("availability: %d %s", r.status, r.body)
	}
	got := r.json(t)
	pumpMTBF, pumpMTTR, fmMTBF, fmMTTR := 3000.0, 20.0, 20000.0, 5.0
	rho := pumpMTTR / pumpMTBF
	want := (1 + rho) / (1 + rho + rho*rho) * fmMTBF / (fmMTBF + fmMTTR)
	a, _ := got["availability"].(float64)
	if got["computed"] != true || got["written"] != true || math.Abs(a-want) > 1e-12 {
		t.Fatalf("availability %v (computed %v, written %v), want %v: %s", a, got["computed"], got["written"], want, r.body)
	}
	tw := e.do("GET", "/digitaltwins/pl", nil).json(t)
	src, _ := tw["sources"].(map[string]any)["availability"].(string)
	if tw["availability"] != a || !strings.Contains(src, "FailureRecord twins r1, r2, r3") || !strings.Contains(src, "Flowmeter: MTBF 20000 h") {
		t.Errorf("plant twin availability %v, source %q", tw["availability"], src)
	}

	bad := []struct{ path, body, want string }{
		{"/plant/equipment/pa/availability", "", "not a SeparationPlant"},
		{"/plant/equipment/pl/availability", `{"distribution":"gamma"}`, `distribution: \"gamma\" is not one of`},
		{"/plant/equipment/pl/availability", `{"figures":{"Pump":{"mtbf":100,"mttr":1}}}`, `figures[\"Pump\"].source: missing`},
		{"/plant/equipment/pl/availability", `{"figure":{}}`, "figure"},
	}
	for _, b := range bad {
		r := e.do("POST", b.path, b.body)
		if r.status != 400 || !strings.Contains(string(r.body), b.want) {
			t.Errorf("POST %s %s = %d %s, want 400 with %q", b.path, b.body, r.status, r.body, b.want)
		}
	}
	if r := e.do("POST", "/plant/equipment/nope/availability", nil); r.status != 404 {
		t.Errorf("unknown plant: %d %s", r.status, r.body)
	}
	e.mustDo("PUT", "/digitaltwins/pl2", `{"$metadata":{"$model":"dtmi:lodestone:SeparationPlant;1"}}`, 200)
	if r := e.do("POST", "/plant/equipment/pl2/availability", nil); r.status != 400 || !strings.Contains(string(r.body), "no SX train") {
		t.Errorf("plant without trains: %d %s", r.status, r.body)
	}
}
