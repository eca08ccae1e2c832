package plant_test

import (
	"math"
	"strings"
	"testing"

	"lodestone/plant"
)

func TestEffectiveCapacity(t *testing.T) {
	q := func(v float64) plant.Quantity { return plant.Quantity{Value: v, Source: "test"} }
	np := plant.Quantity{Value: 10000, Source: "nameplate"}
	tests := []struct {
		name    string
		in      plant.CapacityInput
		want    float64
		warn    string
		wantErr string
	}{
		{"hand calculation", plant.CapacityInput{Trains: q(2), DesignThroughputPerTrain: q(5500), Recovery: q(0.95), Availability: q(0.96), Nameplate: &np},
			2 * 5500 * 0.95 * 0.96, "", ""},
		{"scale-up", plant.CapacityInput{Trains: q(1), DesignThroughputPerTrain: q(1000), Recovery: q(0.9), ScaleUp: q(0.9), Availability: q(1)}, 810, "", ""},
		// A bench-scale number taken for a plant's: caught by the band.
		{"bench scale", plant.CapacityInput{Trains: q(1), DesignThroughputPerTrain: q(3), Recovery: q(0.98), Availability: q(1), Nameplate: &np}, 2.94, "below 0.2", ""},
		{"over nameplate", plant.CapacityInput{Trains: q(3), DesignThroughputPerTrain: q(5000), Recovery: q(1), Availability: q(1), Nameplate: &np}, 15000, "above 1.05", ""},
		{"recovery over 1", plant.CapacityInput{Trains: q(1), DesignThroughputPerTrain: q(1), Recovery: q(1.2), Availability: q(1)}, 0, "", "recovery: 1.2 is out of range"},
		{"no source", plant.CapacityInput{Trains: q(1), DesignThroughputPerTrain: plant.Quantity{Value: 1}, Recovery: q(1), Availability: q(1)}, 0, "", "design_throughput_per_train: no source"},
		{"fractional trains", plant.CapacityInput{Trains: q(1.5), DesignThroughputPerTrain: q(1), Recovery: q(1), Availability: q(1)}, 0, "", "trains: 1.5 is not a whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := plant.EffectiveCapacity(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.TonnesReoPerYear-tt.want) > 1e-9*tt.want {
				t.Errorf("capacity = %v, want %v", got.TonnesReoPerYear, tt.want)
			}
			if (tt.warn == "") != (len(got.Warnings) == 0) || (tt.warn != "" && !strings.Contains(got.Warnings[0], tt.warn)) {
				t.Errorf("warnings = %v, want %q", got.Warnings, tt.warn)
			}
			for _, term := range got.Terms {
				if term.Source == "" {
					t.Errorf("term %s has no source", term.Name)
				}
			}
		})
	}
}

func TestValidateHierarchy(t *testing.T) {
	ok := []plant.Node{
		{ID: "plant", Level: plant.Installation},
		{ID: "train-1", Level: plant.SectionSystem, Parent: "plant"},
		{ID: "pump", Level: plant.EquipmentUnit, Parent: "train-1"},
		{ID: "seal", Level: plant.MaintainableItem, Parent: "pump"}, // subunit level skipped: allowed
	}
	if err := plant.ValidateHierarchy(ok); err != nil {
		t.Errorf("valid hierarchy: %v", err)
	}
	bad := []struct {
		nodes []plant.Node
		want  string
	}{
		{append(append([]plant.Node{}, ok...), plant.Node{ID: "x", Level: plant.SectionSystem, Parent: "pump"}), `node "x" (section/system) is not below its parent "pump" (equipment unit)`},
		{append(append([]plant.Node{}, ok...), plant.Node{ID: "y", Level: plant.Part, Parent: "nope"}), `parent "nope" does not exist`},
		{append(append([]plant.Node{}, ok...), plant.Node{ID: "pump", Level: plant.Part}), `"pump" appears twice`},
		{[]plant.Node{{ID: "z", Level: 12}}, "level 12 is not an ISO 14224 level"},
	}
	for _, tt := range bad {
		if err := plant.ValidateHierarchy(tt.nodes); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ValidateHierarchy = %v, want %q", err, tt.want)
		}
	}
}

func TestSXEquipmentClassesCoverTheBrief(t *testing.T) {
	want := []string{"Mixer", "Settler", "Motor", "Gearbox", "Pump", "Instrument", "Flowmeter", "Analyser", "Filter", "Kiln"}
	have := map[string]bool{}
	for _, c := range plant.SXEquipmentClasses() {
		have[c.Model] = true
		if c.ISOClass == "" || len(c.Items) == 0 {
			t.Errorf("%s: no ISO class or items", c.Name)
		}
	}
	for _, m := range want {
		if !have["dtmi:lodestone:"+m+";1"] {
			t.Errorf("no equipment class typed %s", m)
		}
	}
}
