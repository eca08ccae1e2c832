package estimate_test

import (
	"context"
	"fmt"
	"testing"

	"lodestone/plant/estimate"
)

// benchSpec is a 60-stage cascade of four rare earths (La, Ce, Pr, Nd) in
// sulfate media with the PrOMMiS DEHPA model (5 % v/v), the feed the leach
// liquor of examples/sx-dynamic/prommis-3stage-feed-step.json restricted
// to those four, mixer 400 L and settler 800 L as there. The state has
// 60·(4+2) + 4 = 364 entries.
func benchSpec() string {
	return `{"cascade": {
  "stages": 60, "temperature_K": 305.15, "media": "sulfate",
  "molar_mass_g_per_mol": {"H": 1, "HSO4": 97, "SO4": 96, "DEHPA": 322.431, "La": 138.905, "Ce": 140.116, "Pr": 140.907, "Nd": 144.242},
  "inlets": [
    {"name": "leach liquor", "phase": "aqueous", "stage": 60, "flow_L_per_h": 62.01,
     "mg_per_L": {"H": 10.75, "SO4": 100, "HSO4": 10000, "La": 0.986, "Ce": 2.277, "Pr": 0.303, "Nd": 0.946}},
    {"name": "organic", "phase": "organic", "stage": 1, "flow_L_per_h": 62.01, "mg_per_L": {"DEHPA": 48790}}
  ],
  "equilibrium": {"model": "prommis-dehpa", "dosage_percent": 5},
  "holdup": {"mixer_L": 400, "settler_L": 800, "organic_fraction": 0.5, "settler_cells": 4},
  "duration_h": 1, "start": "steady-state"},
 "sensors": [
  {"id": "raff-Nd", "stage": 1, "phase": "aqueous", "element": "Nd", "sd_mg_per_L": 0.01},
  {"id": "raff-La", "stage": 1, "phase": "aqueous", "element": "La", "sd_mg_per_L": 0.01},
  {"id": "mid-Pr", "stage": 30, "phase": "aqueous", "element": "Pr", "sd_mg_per_L": 0.01},
  {"id": "load-Ce", "stage": 60, "phase": "organic", "element": "Ce", "sd_mg_per_L": 0.02}
 ]}`
}

// BenchmarkFilterStep is one estimator step of a 60-stage × 4-component
// cascade: the prediction over 0.1 h (one backward-Euler step with the
// covariance propagated through its Jacobian) and four scalar updates.
func BenchmarkFilterStep(b *testing.B) {
	ctx := context.Background()
	spec, err := estimate.ParseSpec([]byte(benchSpec()))
	if err != nil {
		b.Fatal(err)
	}
	c, err := spec.Case()
	if err != nil {
		b.Fatal(err)
	}
	f, err := estimate.New(ctx, c.Cascade.Problem, c.Sensors, &estimate.Options{MaxStep: 0.1})
	if err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("stages=60/components=4/state=%d", f.Stepper().Dim()+f.Stepper().Components()), func(b *testing.B) {
		b.ReportAllocs()
		t := f.Time()
		for b.Loop() {
			t += 0.1
			for j, s := range c.Sensors {
				v := f.Stepper().State(nil)[f.Stepper().Index(s.Stage, s.Comp)]
				if _, err := f.Add(ctx, estimate.Measurement{T: t, Sensor: j, Value: v}); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkMHE is one moving-horizon estimate of the 60-stage × 4-component
// cascade over a 1 h window (10 steps of 0.1 h, four readings each), from
// the filter's checkpoint at the window's start.
func BenchmarkMHE(b *testing.B) {
	ctx := context.Background()
	spec, err := estimate.ParseSpec([]byte(benchSpec()))
	if err != nil {
		b.Fatal(err)
	}
	c, err := spec.Case()
	if err != nil {
		b.Fatal(err)
	}
	f, err := estimate.New(ctx, c.Cascade.Problem, c.Sensors, &estimate.Options{MaxStep: 0.1, Horizon: 1.5})
	if err != nil {
		b.Fatal(err)
	}
	for k := 1; k <= 12; k++ {
		for j, s := range c.Sensors {
			v := f.Stepper().State(nil)[f.Stepper().Index(s.Stage, s.Comp)]
			if _, err := f.Add(ctx, estimate.Measurement{T: float64(k) / 10, Sensor: j, Value: v * 1.01}); err != nil {
				b.Fatal(err)
			}
		}
	}
	var it int
	for b.Loop() {
		r, err := f.MHE(ctx, &estimate.MHEOptions{Window: 1, Iterations: 5})
		if err != nil {
			b.Fatal(err)
		}
		it = r.Iterations
	}
	b.ReportMetric(float64(it), "iterations")
}
