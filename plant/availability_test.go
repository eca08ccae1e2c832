package plant_test

import (
	"math"
	"strings"
	"testing"

	"lodestone/dtdl"
	"lodestone/models"
	"lodestone/plant"
	"lodestone/plant/refplant"
	"lodestone/plant/reliability"
)

// refGraph is the reference plant as the chain's input: Equipment-ness
// from the ontology, as the API decides it.
func refGraph(t *testing.T) (*refplant.Plant, plant.AvailabilityInput) {
	t.Helper()
	p, err := refplant.Load()
	if err != nil {
		t.Fatal(err)
	}
	var docs []dtdl.Document
	for _, f := range models.Files() {
		docs = append(docs, dtdl.Document(f))
	}
	ms, err := dtdl.Parse(docs, &dtdl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := plant.AvailabilityInput{Plant: p.PlantID}
	for _, tw := range p.Twins {
		iface := ms.Interface(tw.Model)
		if iface == nil {
			t.Fatalf("twin %s: model %s not in the ontology", tw.ID, tw.Model)
		}
		in.Nodes = append(in.Nodes, plant.GraphNode{ID: tw.ID, Model: plant.ModelName(tw.Model), Equipment: iface.IsAID(models.Equipment), Props: tw.Properties})
	}
	for _, r := range p.Relationships {
		in.Edges = append(in.Edges, plant.Edge{Source: r.Source, Name: r.Name, Target: r.Target})
	}
	return p, in
}

// TestPlantAvailabilityMatchesTrainBlock: on the reference plant's twins,
// the chain's block diagrams (built from the graph) give the availability
// of refplant.TrainBlock (built from the plant's description) with the
// same figures.
func TestPlantAvailabilityMatchesTrainBlock(t *testing.T) {
	p, in := refGraph(t)
	params := map[string]refplant.UnitParams{
		"Motor": {MTBF: 50000, MTTR: 8, Source: "test"}, "Gearbox": {MTBF: 40000, MTTR: 16, Source: "test"},
		"Pump": {MTBF: 6000, MTTR: 12, Source: "test"}, "Flowmeter": {MTBF: 80000, MTTR: 4, Source: "test"},
		"Filter": {MTBF: 20000, MTTR: 2, Source: "test"},
	}
	in.Figures = map[string]plant.ClassFigures{}
	for m, u := range params {
		in.Figures[m] = plant.ClassFigures{MTBF: u.MTBF, MTTR: u.MTTR, Source: "test figures"}
	}
	res, err := plant.PlantAvailability(in)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Computed || res.Availability == nil {
		t.Fatalf("not computed: %s", res.Reason)
	}
	if len(res.Trains) != p.Trains {
		t.Fatalf("%d trains, want %d", len(res.Trains), p.Trains)
	}
	var sum float64
	for n := 1; n <= p.Trains; n++ {
		b, err := p.TrainBlock(n, params)
		if err != nil {
			t.Fatal(err)
		}
		want, err := reliability.SystemAvailability(b)
		if err != nil {
			t.Fatal(err)
		}
		got := res.Trains[n-1]
		if math.Abs(got.Result.Availability-want.Availability) > 1e-12 || len(got.Block.Blocks) != len(b.Blocks) {
			t.Errorf("train %d: %.12f with %d blocks, TrainBlock %.12f with %d", n, got.Result.Availability, len(got.Block.Blocks), want.Availability, len(b.Blocks))
		}
		sum += want.Availability
	}
	if want := sum / float64(p.Trains); math.Abs(*res.Availability-want) > 1e-12 {
		t.Errorf("plant availability %.12f, want the trains' mean %.12f", *res.Availability, want)
	}
	for _, s := range []string{"mean availability of 2 SX trains", "Pump: MTBF 6000 h, MTTR 12 h given: test figures"} {
		if !strings.Contains(res.Source, s) {
			t.Errorf("source %q lacks %q", res.Source, s)
		}
	}
}

// TestPlantAvailabilityNotComputed: the reference plant carries no life
// data, so the chain says which classes lack it instead of a number.
func TestPlantAvailabilityNotComputed(t *testing.T) {
	_, in := refGraph(t)
	in.Figures = map[string]plant.ClassFigures{"Motor": {MTBF: 1000, MTTR: 1, Source: "test"}}
	res, err := plant.PlantAvailability(in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Computed || res.Availability != nil {
		t.Fatalf("computed %v without life data", res.Availability)
	}
	for _, m := range []string{"Gearbox", "Pump", "Flowmeter", "Filter"} {
		if !strings.Contains(res.Reason, "not computed: no FailureRecord twins (and no figures) for the ") || !strings.Contains(res.Reason, " "+m+" (") {
			t.Errorf("reason %q does not name %s", res.Reason, m)
		}
	}
	if strings.Contains(res.Reason, "Motor") {
		t.Errorf("reason names Motor, which has figures: %q", res.Reason)
	}
}

func f64(v float64) *float64 { return &v }

// smallPlant is one train with a duty/standby pump pair (tags P-1A, P-1B),
// a flowmeter and an analyser (left out), and failure records of the
// pumps (on the pumps and on a maintainable item of pump B) and of the
// flowmeter.
func smallPlant() plant.AvailabilityInput {
	eq := func(id, model, tag string) plant.GraphNode {
		return plant.GraphNode{ID: id, Model: model, Equipment: true, Props: map[string]any{"tag": tag}}
	}
	return plant.AvailabilityInput{
		Plant: "pl",
		Nodes: []plant.GraphNode{
			{ID: "pl", Model: "SeparationPlant"},
			{ID: "tr", Model: "PlantSection", Props: map[string]any{"sectionType": "sxTrain", "trainNumber": 1.0}},
			{ID: "other", Model: "PlantSection", Props: map[string]any{"sectionType": "calcining"}},
			eq("pa", "Pump", "P-1A"), eq("pb", "Pump", "P-1B"), eq("fm", "Flowmeter", "FT-1"), eq("xrf", "Analyser", "AT-1"),
			{ID: "pb-sub", Model: "Subunit"}, {ID: "pb-seal", Model: "MaintainableItem"},
		},
		Edges: []plant.Edge{
			{"pl", "hasSection", "tr"}, {"pl", "hasSection", "other"},
			{"tr", "hasEquipment", "pa"}, {"tr", "hasEquipment", "pb"}, {"tr", "hasEquipment", "fm"}, {"tr", "hasEquipment", "xrf"},
			{"pb", "hasSubunit", "pb-sub"}, {"pb-sub", "hasItem", "pb-seal"},
		},
		Records: []plant.FailureRecord{
			{ID: "r1", Of: "pa", OperatingTime: 1000, Downtime: f64(10)},
			{ID: "r2", Of: "pb-seal", OperatingTime: 3000, Downtime: f64(30)},
			{ID: "r3", Of: "pa", OperatingTime: 2000, Suspension: true},
			{ID: "r4", Of: "fm", OperatingTime: 5000, Downtime: f64(5)},
			{ID: "r5", Of: "fm", OperatingTime: 15000, Suspension: true},
			{ID: "r6", Of: "xrf", OperatingTime: 10, Downtime: f64(1)}, // not needed: ignored
		},
		Fit: &reliability.FitOptions{Distribution: reliability.Exponential},
	}
}

// TestPlantAvailabilityFromRecords checks the chain against closed forms:
// exponential fits (MTBF = total time / failures), MTTR the mean
// downtime, a cold-standby pair with one crew A = (1+ρ)/(1+ρ+ρ²), ρ =
// MTTR/MTBF, in series with the flowmeter.
func TestPlantAvailabilityFromRecords(t *testing.T) {
	res, err := plant.PlantAvailability(smallPlant())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Computed {
		t.Fatalf("not computed: %s", res.Reason)
	}
	pumpMTBF, pumpMTTR := (1000.0+3000+2000)/2, 20.0
	fmMTBF, fmMTTR := 20000.0, 5.0
	byModel := map[string]plant.ClassLife{}
	for _, c := range res.Classes {
		byModel[c.Model] = c
	}
	if len(byModel) != 2 {
		t.Fatalf("classes %+v, want Pump and Flowmeter only", res.Classes)
	}
	p, f := byModel["Pump"], byModel["Flowmeter"]
	if math.Abs(p.MTBF-pumpMTBF) > 1e-9 || p.MTTR != pumpMTTR || p.Failures != 2 || strings.Join(p.Records, ",") != "r1,r2,r3" {
		t.Errorf("pump class %+v", p)
	}
	if math.Abs(f.MTBF-fmMTBF) > 1e-9 || f.MTTR != fmMTTR || f.Units != 1 {
		t.Errorf("flowmeter class %+v", f)
	}
	rho := pumpMTTR / pumpMTBF
	want := (1 + rho) / (1 + rho + rho*rho) * fmMTBF / (fmMTBF + fmMTTR)
	if math.Abs(*res.Availability-want) > 1e-12 {
		t.Errorf("availability %.12f, want %.12f", *res.Availability, want)
	}
	// Blocks follow the ids the section points at: fm, then the pair.
	if b := res.Trains[0].Block.Blocks; len(b) != 2 || b[1].Kind != reliability.KindStandby || b[1].N != 2 || b[1].Name != "pa / pb (duty/standby)" {
		t.Errorf("train block %+v, want the flowmeter and a standby pair", b)
	}
	for _, s := range []string{"FailureRecord twins r1, r2, r3", "mean downtime of 2 failures", "exponential fit"} {
		if !strings.Contains(res.Source, s) {
			t.Errorf("source lacks %q: %s", s, res.Source)
		}
	}
}

// TestPlantAvailabilityMissingData: each gap in the records is a reason,
// not an error; bad figures and a plant without trains are errors.
func TestPlantAvailabilityMissingData(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*plant.AvailabilityInput)
		reason  string
		wantErr string
	}{
		{"no downtime", func(in *plant.AvailabilityInput) { in.Records[3].Downtime = nil }, "none of the 1 failures of Flowmeter units records its downtime", ""},
		{"only suspensions", func(in *plant.AvailabilityInput) { in.Records[3].Suspension = true }, "no life distribution from the 2 failure records of Flowmeter units (0 failures)", ""},
		{"bad time", func(in *plant.AvailabilityInput) { in.Records[0].OperatingTime = -1 }, `failure record "r1": -1 must be a positive number`, ""},
		{"figures replace records", func(in *plant.AvailabilityInput) {
			in.Records[3].Downtime = nil
			in.Figures = map[string]plant.ClassFigures{"Flowmeter": {MTBF: 100, MTTR: 1, Source: "vendor sheet"}}
		}, "", ""},
		{"figure without source", func(in *plant.AvailabilityInput) {
			in.Figures = map[string]plant.ClassFigures{"Pump": {MTBF: 100, MTTR: 1}}
		}, "", `figures["Pump"].source: missing`},
		{"negative mtbf", func(in *plant.AvailabilityInput) {
			in.Figures = map[string]plant.ClassFigures{"Pump": {MTBF: -5, MTTR: 1, Source: "x"}}
		}, "", `figures["Pump"].mtbf: -5 must be a positive number`},
		{"no trains", func(in *plant.AvailabilityInput) { in.Edges = in.Edges[1:] }, "", "no SX train"},
		{"unknown plant", func(in *plant.AvailabilityInput) { in.Plant = "nope" }, "", "nope: not among the nodes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := smallPlant()
			tc.edit(&in)
			res, err := plant.PlantAvailability(in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.reason == "" {
				if !res.Computed {
					t.Fatalf("not computed: %s", res.Reason)
				}
				return
			}
			if res.Computed || !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("computed %v, reason %q, want %q", res.Computed, res.Reason, tc.reason)
			}
		})
	}
}

func TestModelName(t *testing.T) {
	for in, want := range map[string]string{"dtmi:lodestone:Pump;1": "Pump", "dtmi:plantco:CapacityOffer;12": "CapacityOffer", "Pump": "Pump", "": ""} {
		if got := plant.ModelName(in); got != want {
			t.Errorf("ModelName(%q) = %q, want %q", in, got, want)
		}
	}
}
