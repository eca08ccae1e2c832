package estimate_test

import (
	"context"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"lodestone/plant/estimate"
	"lodestone/process/sx/dynamic"
)

var update = flag.Bool("update", false, "regenerate testdata/ndpr-drift.json")

// cascadeSpec is an 8-stage Nd/Pr chloride cascade in the sx dynamic spec
// format (log K of the process/sx fit on the Lyon (2016) rows, as in
// examples/sx-dynamic/ndpr-feed-step.json), started at its steady state.
const cascadeSpec = `{
  "stages": 8, "temperature_K": 298.15, "media": "chloride",
  "inlets": [
    {"name": "feed", "phase": "aqueous", "stage": 4, "flow_L_per_h": 10, "mg_per_L": {"Nd": 14424, "Pr": 7045, "H": 100, "Cl": 21230}},
    {"name": "scrub acid", "phase": "aqueous", "stage": 8, "flow_L_per_h": 5, "mg_per_L": {"H": 1008, "Cl": 35450}},
    {"name": "PC88A", "phase": "organic", "stage": 1, "flow_L_per_h": 20, "mg_per_L": {"PC88A": 306000}}
  ],
  "equilibrium": {"model": "mass-action", "log_K": {"Nd": -1.604, "Pr": -1.750}},
  "holdup": {"mixer_L": 50},
  "duration_h": 20,
  "start": "steady-state"
}`

const sensorsSpec = `[
  {"id": "xrf-raff-Nd", "stage": 1, "phase": "aqueous", "element": "Nd", "sd_mg_per_L": 50},
  {"id": "xrf-raff-Pr", "stage": 1, "phase": "aqueous", "element": "Pr", "sd_mg_per_L": 50},
  {"id": "xrf-feed-Nd", "stage": 4, "phase": "aqueous", "element": "Nd", "sd_mg_per_L": 100},
  {"id": "xrf-org-Pr", "stage": 8, "phase": "organic", "element": "Pr", "sd_mg_per_L": 100},
  {"id": "lab-org-Nd", "stage": 8, "phase": "organic", "element": "Nd", "sd_mg_per_L": 50, "delay_h": 1}
]`

// writeDriftSpec writes testdata/ndpr-drift.json: 20 h of synthetic
// readings of the cascade (the dynamic model itself, seeded noise; no
// plant data), with xrf-feed-Nd reading 5 σ high from 10 h on.
func writeDriftSpec(t *testing.T) {
	ctx := context.Background()
	var sens []map[string]any
	if err := json.Unmarshal([]byte(sensorsSpec), &sens); err != nil {
		t.Fatal(err)
	}
	spec, err := estimate.ParseSpec([]byte(`{"cascade": ` + cascadeSpec + `, "sensors": ` + sensorsSpec + `}`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := spec.Case()
	if err != nil {
		t.Fatal(err)
	}
	truth, err := dynamic.NewStepper(ctx, c.Cascade.Problem, nil)
	if err != nil {
		t.Fatal(err)
	}
	mm := map[int]float64{0: 144.242, 1: 140.908}
	rng := rand.New(rand.NewPCG(11, 0))
	var ms []map[string]any
	for k := 1; k <= 100; k++ {
		tk := float64(k) * 0.2
		if err := truth.Advance(ctx, tk, nil); err != nil {
			t.Fatal(err)
		}
		u := truth.State(nil)
		for _, s := range c.Sensors {
			if s.Delay > 0 && k%5 != 0 {
				continue
			}
			v := u[truth.Index(s.Stage, s.Comp)]
			if s.Organic {
				v, _, _, _ = truth.Organic(s.Stage, s.Comp)
			}
			mg := v*1000*mm[s.Comp] + s.SD*1000*mm[s.Comp]*rng.NormFloat64()
			if s.ID == "xrf-feed-Nd" && tk >= 10 {
				mg += 5 * s.SD * 1000 * mm[s.Comp]
			}
			ms = append(ms, map[string]any{"t_h": tk, "sensor": s.ID, "value": mg})
		}
	}
	var casc any
	if err := json.Unmarshal([]byte(cascadeSpec), &casc); err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(map[string]any{
		"description":  "Synthetic readings from the dynamic cascade model (seeded noise), not plant data; xrf-feed-Nd reads 5 sd high from 10 h. Regenerate: go test ./plant/estimate -run TestRunSpec -update",
		"cascade":      casc,
		"sensors":      sens,
		"measurements": ms,
		"alarm":        map[string]any{"nis_window": 50, "nis_alpha": 1e-4, "cusum_k": 0.5, "cusum_h": 8},
	}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("testdata/ndpr-drift.json", append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunSpec filters the synthetic spec: the biased sensor must be named
// by a sensor_drift alarm after 10 h and the estimates after it must be
// uncertified.
func TestRunSpec(t *testing.T) {
	if *update {
		writeDriftSpec(t)
	}
	data, err := os.ReadFile("testdata/ndpr-drift.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := estimate.ParseSpec(data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := spec.Case()
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range out.Alarms {
		if a.Kind == estimate.SensorDrift && a.Sensor != nil && *a.Sensor == "xrf-feed-Nd" && a.TH >= 10 && a.TH <= 12 {
			found = true
		}
		if a.TH < 10 {
			t.Errorf("alarm %v on clean data before the bias", a)
		}
	}
	if !found {
		t.Errorf("no sensor_drift on xrf-feed-Nd within 10 samples of 10 h: %+v", out.Alarms)
	}
	if last := out.Estimates[len(out.Estimates)-1]; last.Certified {
		t.Error("last estimate certified after a drift alarm")
	}
	if len(out.Estimates) == 0 || len(out.Estimates[0].Stages) != 8 || len(out.Innovations) == 0 {
		t.Fatalf("output shape: %d estimates, %d innovations", len(out.Estimates), len(out.Innovations))
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"estimates"`, `"stages"`, `"aqueous_mg_per_L"`, `"organic_mg_per_L"`, `"innovations"`, `"nu"`, `"s"`, `"alarms"`, `"kind"`, `"sensor"`, `"t_h"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("output has no %s", key)
		}
	}
}

// TestRunSpecMHE: with "mhe", the run ends with a moving-horizon estimate
// over the window, whose cost is no higher than at the EKF's state; a
// window longer than the data is an error naming mhe.window_h.
func TestRunSpecMHE(t *testing.T) {
	data, err := os.ReadFile("testdata/ndpr-drift.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	ms := raw["measurements"].([]any)
	short := ms[:0:0]
	for _, m := range ms {
		if m.(map[string]any)["t_h"].(float64) <= 5 {
			short = append(short, m)
		}
	}
	raw["measurements"] = short
	for _, tt := range []struct {
		window float64
		err    string
	}{{1, ""}, {6, "mhe.window_h: 6 h is longer than the data"}} {
		raw["mhe"] = map[string]any{"window_h": tt.window}
		b, _ := json.Marshal(raw)
		spec, err := estimate.ParseSpec(b)
		if err != nil {
			t.Fatal(err)
		}
		c, err := spec.Case()
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.Run(t.Context())
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("window %v: error %v, want %q", tt.window, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		m := out.MHE
		if m == nil || m.TH != 5 || m.StartH != 4 || m.Measurements == 0 || m.Cost > m.PriorCost || len(m.Stages) != 8 {
			t.Fatalf("mhe output %+v", m)
		}
		for _, st := range m.Stages {
			for el, v := range st.Aqueous {
				if v < 0 || st.Organic[el] < 0 {
					t.Errorf("stage %d %s: negative estimate", st.Stage, el)
				}
			}
		}
	}
}

// TestSpecErrors checks that bad input names the field.
func TestSpecErrors(t *testing.T) {
	base := func(sensors, measurements string) string {
		return `{"cascade": ` + cascadeSpec + `, "sensors": ` + sensors + `, "measurements": ` + measurements + `}`
	}
	ok := `[{"t_h": 0.1, "sensor": "xrf-raff-Nd", "value": 10}]`
	tests := []struct {
		name, spec, field string
	}{
		{"negative time", base(sensorsSpec, `[{"t_h": -1, "sensor": "xrf-raff-Nd", "value": 10}]`), "measurements[0].t_h"},
		{"unsorted", base(sensorsSpec, `[{"t_h": 2, "sensor": "xrf-raff-Nd", "value": 10}, {"t_h": 1, "sensor": "xrf-raff-Nd", "value": 10}]`), "measurements[1].t_h"},
		{"unknown sensor", base(sensorsSpec, `[{"t_h": 1, "sensor": "nope", "value": 10}]`), "measurements[0].sensor"},
		{"missing value", base(sensorsSpec, `[{"t_h": 1, "sensor": "xrf-raff-Nd"}]`), "measurements[0].value"},
		{"bad stage", base(`[{"id": "a", "stage": 9, "phase": "aqueous", "element": "Nd", "sd_mg_per_L": 1}]`, ok), "sensors[0].stage"},
		{"bad phase", base(`[{"id": "a", "stage": 1, "phase": "gas", "element": "Nd", "sd_mg_per_L": 1}]`, ok), "sensors[0].phase"},
		{"bad element", base(`[{"id": "a", "stage": 1, "phase": "aqueous", "element": "Xx", "sd_mg_per_L": 1}]`, ok), "sensors[0].element"},
		{"zero sd", base(`[{"id": "a", "stage": 1, "phase": "aqueous", "element": "Nd", "sd_mg_per_L": 0}]`, ok), "sensors[0].sd_mg_per_L"},
		{"negative delay", base(`[{"id": "a", "stage": 1, "phase": "aqueous", "element": "Nd", "sd_mg_per_L": 1, "delay_h": -1}]`, ok), "sensors[0].delay_h"},
		{"duplicate id", base(`[{"id": "a", "stage": 1, "phase": "aqueous", "element": "Nd", "sd_mg_per_L": 1}, {"id": "a", "stage": 2, "phase": "aqueous", "element": "Nd", "sd_mg_per_L": 1}]`, ok), "sensors[1].id"},
		{"unknown field", `{"cascade": ` + cascadeSpec + `, "sensors": ` + sensorsSpec + `, "bogus": 1}`, "bogus"},
		{"wrong type", base(sensorsSpec, `[{"t_h": "1", "sensor": "xrf-raff-Nd", "value": 10}]`), "t_h"},
		{"no cascade", `{"sensors": ` + sensorsSpec + `}`, "cascade"},
		{"bad alarm", `{"cascade": ` + cascadeSpec + `, "sensors": ` + sensorsSpec + `, "alarm": {"nis_alpha": 2}}`, "alarm.nis_alpha"},
		{"bad cascade", `{"cascade": {"stages": 8}, "sensors": ` + sensorsSpec + `}`, "cascade"},
		{"bad mhe window", `{"cascade": ` + cascadeSpec + `, "sensors": ` + sensorsSpec + `, "mhe": {"window_h": -1}}`, "mhe.window_h"},
		{"bad mhe iterations", `{"cascade": ` + cascadeSpec + `, "sensors": ` + sensorsSpec + `, "mhe": {"iterations": 0}}`, "mhe.iterations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := estimate.ParseSpec([]byte(tt.spec))
			if err == nil {
				_, err = spec.Case()
			}
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %v, want one naming %s", err, tt.field)
			}
		})
	}
}

// FuzzParseSpec checks that no input makes the decoder or the checks panic.
func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(`{"cascade": ` + cascadeSpec + `, "sensors": ` + sensorsSpec + `, "measurements": [{"t_h": 1, "sensor": "xrf-raff-Nd", "value": 10}]}`))
	f.Add([]byte(`{"sensors": [], "measurements": null}`))
	f.Add([]byte(`{"cascade": {}, "alarm": {"nis_window": -1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := estimate.ParseSpec(data)
		if err != nil {
			return
		}
		_, _ = spec.Case()
	})
}
