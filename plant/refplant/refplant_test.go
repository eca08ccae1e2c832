package refplant_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"lodestone/dtdl"
	"lodestone/models"
	"lodestone/plant/refplant"
	"lodestone/plant/reliability"
	"lodestone/process/sx"
)

func ontology(t *testing.T) *dtdl.ModelSet {
	t.Helper()
	var docs []dtdl.Document
	for _, f := range models.Files() {
		docs = append(docs, dtdl.Document(f))
	}
	ms, err := dtdl.Parse(docs, &dtdl.Options{})
	if err != nil {
		var el *dtdl.ErrorList
		if errors.As(err, &el) {
			for _, e := range el.Errors {
				t.Errorf("%v", e)
			}
		}
		t.Fatal(err)
	}
	return ms
}

// TestReferencePlantValidates checks every twin and relationship against the
// ontology with the project's own validator.
func TestReferencePlantValidates(t *testing.T) {
	p, err := refplant.Load()
	if err != nil {
		t.Fatal(err)
	}
	ms := ontology(t)
	byID := map[string]*dtdl.Interface{}
	for _, tw := range p.Twins {
		in := ms.Interface(tw.Model)
		if in == nil {
			t.Errorf("twin %s: model %s not in the ontology", tw.ID, tw.Model)
			continue
		}
		byID[tw.ID] = in
		doc := map[string]any{"$dtId": tw.ID, "$metadata": map[string]any{"$model": tw.Model}}
		for k, v := range tw.Properties {
			doc[k] = v
		}
		if err := in.ValidateTwin(doc); err != nil {
			t.Errorf("twin %s: %v", tw.ID, err)
		}
	}
	counts := map[[2]string]int{}
	for _, r := range p.Relationships {
		if byID[r.Source] == nil || byID[r.Target] == nil {
			t.Errorf("relationship %s: unknown end", r.ID)
			continue
		}
		counts[[2]string{r.Source, r.Name}]++
		if err := byID[r.Source].ValidateRelationship(r.Name, byID[r.Target], map[string]any{}, counts[[2]string{r.Source, r.Name}]); err != nil {
			t.Errorf("relationship %s: %v", r.ID, err)
		}
	}
}

// TestReferencePlantSources: every numeric property has a citation, by
// property (sources) or for the whole twin (source).
func TestReferencePlantSources(t *testing.T) {
	p, err := refplant.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tw := range p.Twins {
		srcs, _ := tw.Properties["sources"].(map[string]any)
		_, whole := tw.Properties["source"].(string)
		for k, v := range tw.Properties {
			switch v.(type) {
			case float64, int:
			default:
				continue
			}
			if k == "stageNumber" || k == "trainNumber" {
				continue // positions, not measured figures
			}
			if _, ok := srcs[k]; !ok && !whole {
				t.Errorf("twin %s: %s = %v has no source", tw.ID, k, v)
			}
		}
	}
}

func TestReferencePlantShape(t *testing.T) {
	p, err := refplant.Load()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, tw := range p.Twins {
		count[tw.Model]++
	}
	// 2 trains × 60 stages (REEP twin, 60 stages) of mixer, settler, motor, gearbox.
	want := map[string]int{
		models.SeparationPlant: 1, models.SXCascade: 2, models.SXStage: 120, models.Mixer: 120, models.Settler: 120,
		models.Motor: 121, models.Gearbox: 121, models.Analyser: 2, models.Kiln: 1, models.PlantSection: 4,
		models.Pump: 14, models.Flowmeter: 6,
		// An interface and a level transmitter at stages 30 and 60 of each train.
		models.Instrument: 8,
	}
	for m, n := range want {
		if count[m] != n {
			t.Errorf("%d twins of %s, want %d", count[m], m, n)
		}
	}
	if p.Trains != 2 || p.CapacityTonnesReoPerYear != 10908 || p.CapacitySource == "" || p.TrainsSource == "" {
		t.Errorf("plant figures: %+v", *p)
	}
	// Deterministic: two loads give the same order.
	q, _ := refplant.Load()
	for i := range p.Relationships {
		if p.Relationships[i] != q.Relationships[i] {
			t.Fatalf("relationship %d differs between loads", i)
		}
	}
}

// TestTrainBlock: with figures per class the train's availability is the
// closed form of its structure: 60 motors and 60 gearboxes, 3 flowmeters
// and a filter in series, and three cold duty/standby pump pairs.
func TestTrainBlock(t *testing.T) {
	p, err := refplant.Load()
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]refplant.UnitParams{
		"Motor": {MTBF: 50000, MTTR: 8, Source: "test"}, "Gearbox": {MTBF: 40000, MTTR: 16, Source: "test"},
		"Pump": {MTBF: 6000, MTTR: 12, Source: "test"}, "Flowmeter": {MTBF: 80000, MTTR: 4, Source: "test"},
		"Filter": {MTBF: 20000, MTTR: 2, Source: "test"},
	}
	b, err := p.TrainBlock(1, params)
	if err != nil {
		t.Fatal(err)
	}
	got, err := reliability.SystemAvailability(b)
	if err != nil {
		t.Fatal(err)
	}
	a := func(u refplant.UnitParams) float64 { return u.MTBF / (u.MTBF + u.MTTR) }
	rho := params["Pump"].MTTR / params["Pump"].MTBF
	pair := (1 + rho) / (1 + rho + rho*rho)
	want := math.Pow(a(params["Motor"]), 60) * math.Pow(a(params["Gearbox"]), 60) * math.Pow(a(params["Flowmeter"]), 3) * a(params["Filter"]) * math.Pow(pair, 3)
	if math.Abs(got.Availability-want) > 1e-12 {
		t.Errorf("train availability = %.12f, want %.12f", got.Availability, want)
	}
	delete(params, "Gearbox")
	if _, err := p.TrainBlock(2, params); err == nil || !strings.Contains(err.Error(), `params["Gearbox"]: missing`) {
		t.Errorf("missing class: %v", err)
	}
	if _, err := p.TrainBlock(3, params); err == nil {
		t.Error("train 3 of 2: no error")
	}
}

// TestCascadeSpec: each train's cascade carries a spec that the sx engine
// accepts once its parametersJson is merged back (as the simulate route
// does), with the cascade's stage count and a cited source.
func TestCascadeSpec(t *testing.T) {
	p, err := refplant.Load()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tw := range p.Twins {
		if tw.Model != "dtmi:lodestone:SXCascade;1" {
			continue
		}
		n++
		spec, _ := tw.Properties["spec"].(map[string]any)
		if spec == nil {
			t.Fatalf("%s has no spec", tw.ID)
		}
		if src, _ := tw.Properties["sources"].(map[string]any); src == nil || src["spec"] == nil {
			t.Errorf("%s: spec has no source", tw.ID)
		}
		eq := map[string]any{}
		for k, v := range spec["equilibrium"].(map[string]any) {
			eq[k] = v
		}
		if err := json.Unmarshal([]byte(eq["parametersJson"].(string)), &eq); err != nil {
			t.Fatal(err)
		}
		delete(eq, "parametersJson")
		merged := map[string]any{}
		for k, v := range spec {
			merged[k] = v
		}
		merged["equilibrium"] = eq
		raw, err := json.Marshal(merged)
		if err != nil {
			t.Fatal(err)
		}
		s, err := sx.ParseSpec(raw)
		if err != nil {
			t.Fatalf("%s: %v", tw.ID, err)
		}
		if _, err := s.Case(); err != nil {
			t.Fatalf("%s: %v", tw.ID, err)
		}
		if *s.Stages != 60 {
			t.Errorf("%s: %d stages in the spec, want the cascade's 60", tw.ID, *s.Stages)
		}
	}
	if n != p.Trains {
		t.Errorf("%d cascades, want one per train (%d)", n, p.Trains)
	}
}
