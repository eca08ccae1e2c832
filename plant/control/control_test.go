package control_test

import (
	"math"
	"os"
	"strings"
	"testing"

	"lodestone/plant/control"
)

func loadCase(t *testing.T) *control.Case {
	t.Helper()
	data, err := os.ReadFile("testdata/ndpr-upset.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := control.ParseSpec(data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := spec.Case()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPIHoldsThroughUpset: the feed upsets drive the open loop's Pr
// raffinate out of its purity specification; the PI loop on the organic
// flow keeps the monitored Nd fraction within its band at the end and the
// product in specification the whole run.
func TestPIHoldsThroughUpset(t *testing.T) {
	c := loadCase(t)
	out, err := c.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]control.OutputStrategy{}
	for _, s := range out.Strategies {
		byName[s.Name] = s
	}
	open, pi := byName["open loop"], byName["PI on organic flow"]
	min := c.Problem.Product.MinPurity
	if open.FinalPurity >= min || open.InSpecFrac >= 1 {
		t.Errorf("open loop: final purity %.4f, %.0f %% in spec; want the upset to drive it below %v", open.FinalPurity, 100*open.InSpecFrac, min)
	}
	for k, p := range pi.Series.Purity {
		if p < min {
			t.Fatalf("PI: purity %.4f < %v at %g h", p, min, pi.Series.TH[k])
		}
	}
	if d := math.Abs(pi.Series.CV[len(pi.Series.CV)-1] - out.Setpoint); d > 0.01 {
		t.Errorf("PI: final monitored deviation %.4g, want ≤ the band 0.01", d)
	}
	if pi.IAE >= open.IAE/5 {
		t.Errorf("PI: IAE %.3g, open loop %.3g; want at least 5 times smaller", pi.IAE, open.IAE)
	}
	if pi.SettlingTimeH == nil || open.SettlingTimeH != nil {
		t.Errorf("settling: PI %v, open %v; want PI settled and open loop not", pi.SettlingTimeH, open.SettlingTimeH)
	}
}

// TestReagentVolume checks the integrated volumes against the hand sum of
// flow × time for the open loop: feed 10 L/h for 40 h then 12 L/h for 40 h,
// scrub 4 L/h and organic 32 L/h for 80 h.
func TestReagentVolume(t *testing.T) {
	c := loadCase(t)
	c.Problem.Strategies = c.Problem.Strategies[:1]
	out, err := c.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{10*40 + 12*40, 4 * 80, 32 * 80}
	for j, r := range out.Strategies[0].Reagents {
		if math.Abs(r.VolumeL-want[j]) > 1e-9*want[j] {
			t.Errorf("%s: %v L, want %v", r.Inlet, r.VolumeL, want[j])
		}
	}
	// Acid of the scrub: 4 L/h × 1 mol/L × 80 h (1008 mg/L H at 1.008 g/mol).
	if a := out.Strategies[0].Reagents[1].AcidMol; math.Abs(a-320) > 1e-6*320 {
		t.Errorf("scrub acid %v mol, want 320", a)
	}
}

// TestRepeatable runs the comparison twice: the same bits.
func TestRepeatable(t *testing.T) {
	c := loadCase(t)
	a, err := c.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Strategies {
		if a.Strategies[i].IAE != b.Strategies[i].IAE {
			t.Errorf("%s: IAE %v then %v", a.Strategies[i].Name, a.Strategies[i].IAE, b.Strategies[i].IAE)
		}
	}
}

// TestSpecErrors checks that bad input names the field.
func TestSpecErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/ndpr-upset.json")
	if err != nil {
		t.Fatal(err)
	}
	good := string(data)
	tests := []struct{ name, old, new, field string }{
		{"no sample", `"sample_h": 0.25,`, ``, "sample_h"},
		{"negative sample", `"sample_h": 0.25`, `"sample_h": -1`, "sample_h"},
		{"bad stage", `"monitor": {"stage": 3`, `"monitor": {"stage": 11`, "monitor.stage"},
		{"bad measure", `"measure": "fraction"`, `"measure": "purity"`, "monitor.measure"},
		{"bad element", `"element": "Pr", "min_purity"`, `"element": "Xx", "min_purity"`, "product.element"},
		{"bad outlet", `"outlet": "raffinate"`, `"outlet": "sink"`, "product.outlet"},
		{"bad ti", `"ti_h": 3,`, `"ti_h": 0,`, "strategies[1].pi[0].ti_h"},
		{"bad inlet", `"manipulate": {"inlet": 2, "field": "flow_L_per_h"}, "min": 10, "max": 80}]},
    {"name": "O/A`, `"manipulate": {"inlet": 7, "field": "flow_L_per_h"}, "min": 10, "max": 80}]},
    {"name": "O/A`, "strategies[1].pi[0].manipulate.inlet"},
		{"bad field", `"field": "mg_per_L.Na"`, `"field": "mg_per_L.Zz"`, "strategies[4].pi[0].manipulate.field"},
		{"bad ratio", `"ratio": [{"from_inlet": 0, "inlet": 2}]`, `"ratio": [{"from_inlet": 0, "inlet": 0}]`, "strategies[2].ratio[0].inlet"},
		{"unknown field", `"sample_h"`, `"bogus": 1, "sample_h"`, "bogus"},
		{"wrong type", `"sample_h": 0.25`, `"sample_h": "0.25"`, "sample_h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := strings.Replace(good, tt.old, tt.new, 1)
			if s == good {
				t.Fatalf("test case does not change the spec")
			}
			spec, err := control.ParseSpec([]byte(s))
			if err == nil {
				_, err = spec.Case()
			}
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %v, want one naming %s", err, tt.field)
			}
		})
	}
}

// FuzzParseSpec checks that no input makes the decoder or checks panic.
func FuzzParseSpec(f *testing.F) {
	data, err := os.ReadFile("testdata/ndpr-upset.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"strategies": [{"pi": [{}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := control.ParseSpec(data)
		if err != nil {
			return
		}
		_, _ = spec.Case()
	})
}
